//! An uploaded photo made into what the record names: decoded within limits (the
//! upload's header cannot make the node allocate what it likes), turned upright by its
//! EXIF orientation, scaled to at most [`MAX_PHOTO_SIDE`] and [`THUMB_SIDE`] pixels a
//! side, and encoded anew as JPEG — which also drops the camera's metadata (place,
//! device) from what is published.

use std::io::Cursor;

use alliance_protocol::record::{MAX_PHOTO_BYTES, MAX_PHOTO_SIDE, MAX_THUMB_BYTES, THUMB_SIDE};
use image::{
    DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits, RgbImage,
    codecs::jpeg::JpegEncoder, imageops,
};

/// Largest side of an upload, in pixels.
const MAX_UPLOAD_SIDE: u32 = 12_000;
/// Most pixels of an upload (a 50-megapixel camera's photo): with the decoded image and
/// its RGB copy, what one upload may hold in memory stays in the hundreds of MB.
const MAX_PIXELS: u64 = 50_000_000;
/// Most memory the decoder may take.
const MAX_DECODED_BYTES: u64 = 256 * 1024 * 1024;

/// A photo ready to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Prepared {
    pub photo: Vec<u8>,
    pub thumb: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

/// Makes an upload (JPEG or PNG) into a published photo and its thumbnail, or says
/// why not in words for the person uploading.
pub(crate) fn prepare(upload: &[u8]) -> Result<Prepared, String> {
    let unreadable = |e: image::ImageError| format!("the photo cannot be read: {e}");
    let reader = ImageReader::new(Cursor::new(upload))
        .with_guessed_format()
        .map_err(|e| format!("the photo cannot be read: {e}"))?;
    if !matches!(reader.format(), Some(ImageFormat::Jpeg | ImageFormat::Png)) {
        return Err("a photo is a JPEG or PNG file".into());
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_UPLOAD_SIDE);
    limits.max_image_height = Some(MAX_UPLOAD_SIDE);
    limits.max_alloc = Some(MAX_DECODED_BYTES);
    let mut reader = reader;
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|e| match e {
        image::ImageError::Limits(_) => too_large(),
        other => unreadable(other),
    })?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > MAX_PIXELS
        || decoder.total_bytes() > MAX_DECODED_BYTES
    {
        return Err(too_large());
    }
    let orientation = decoder.orientation().map_err(unreadable)?;
    let image = DynamicImage::from_decoder(decoder).map_err(unreadable)?;
    // Scaled first, then turned: the turn works on the small image.
    let photo = fit(flatten(image), MAX_PHOTO_SIDE);
    let mut upright = DynamicImage::ImageRgb8(photo);
    upright.apply_orientation(orientation);
    let photo = upright.into_rgb8();
    let thumb = fit(photo.clone(), THUMB_SIDE);
    let (width, height) = photo.dimensions();
    Ok(Prepared {
        photo: encode_within(&photo, MAX_PHOTO_BYTES)?,
        thumb: encode_within(&thumb, MAX_THUMB_BYTES)?,
        width,
        height,
    })
}

fn too_large() -> String {
    format!(
        "a photo may be at most {} megapixels and {MAX_UPLOAD_SIDE} pixels a side",
        MAX_PIXELS / 1_000_000
    )
}

/// RGB on a white ground: JPEG has no transparency.
fn flatten(image: DynamicImage) -> RgbImage {
    if !image.color().has_alpha() {
        return image.into_rgb8();
    }
    let rgba = image.into_rgba8();
    RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let over_white = |c: u8| {
            let (c, a) = (u32::from(c), u32::from(a));
            ((c * a + 255 * (255 - a)) / 255) as u8
        };
        image::Rgb([over_white(r), over_white(g), over_white(b)])
    })
}

/// `image` scaled down (never up) to at most `side` pixels a side, keeping its shape.
/// Area averaging in integers: no floating-point copy of a large image.
fn fit(image: RgbImage, side: u32) -> RgbImage {
    let (w, h) = image.dimensions();
    if w <= side && h <= side {
        return image;
    }
    let scale = f64::from(side) / f64::from(w.max(h));
    let scaled = |n: u32| ((f64::from(n) * scale).round() as u32).clamp(1, side);
    imageops::thumbnail(&image, scaled(w), scaled(h))
}

/// JPEG at the best of a few qualities that fits in `max` bytes.
fn encode_within(image: &RgbImage, max: u32) -> Result<Vec<u8>, String> {
    for quality in [85, 70, 55, 40] {
        let mut bytes = Vec::new();
        JpegEncoder::new_with_quality(&mut bytes, quality)
            .encode_image(image)
            .map_err(|e| format!("the photo cannot be encoded: {e}"))?;
        if bytes.len() <= max as usize {
            return Ok(bytes);
        }
    }
    Err("the photo is too detailed to publish; try a smaller one".into())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A PNG of `width` × `height` with a gradient and, when `alpha`, a transparent half.
    pub(crate) fn png(width: u32, height: u32, alpha: bool) -> Vec<u8> {
        let image = image::RgbaImage::from_fn(width, height, |x, y| {
            let a = if alpha && x < width / 2 { 0 } else { 255 };
            image::Rgba([(x % 256) as u8, (y % 256) as u8, 90, a])
        });
        let mut bytes = Vec::new();
        DynamicImage::ImageRgba8(image)
            .write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png)
            .unwrap();
        bytes
    }

    /// The PNG chunk checksum (CRC-32, ISO 3309).
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &byte in bytes {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn a_large_photo_is_scaled_to_the_published_size_and_a_thumbnail() {
        let prepared = prepare(&png(4000, 3000, false)).unwrap();
        assert_eq!((prepared.width, prepared.height), (1600, 1200));
        let thumb = image::load_from_memory(&prepared.thumb).unwrap();
        assert_eq!((thumb.width(), thumb.height()), (320, 240));
        assert!(prepared.photo.starts_with(&[0xFF, 0xD8, 0xFF]));
        assert!(prepared.photo.len() <= MAX_PHOTO_BYTES as usize);
    }

    #[test]
    fn a_small_photo_is_not_enlarged_and_transparency_becomes_white() {
        let prepared = prepare(&png(200, 100, true)).unwrap();
        assert_eq!((prepared.width, prepared.height), (200, 100));
        let photo = image::load_from_memory(&prepared.photo)
            .unwrap()
            .into_rgb8();
        let [r, g, b] = photo.get_pixel(10, 50).0;
        assert!(r > 240 && g > 240 && b > 240, "{r} {g} {b}");
    }

    #[test]
    fn other_files_and_oversized_headers_are_refused_in_words() {
        assert!(prepare(b"%PDF-1.7 not a photo").is_err());
        assert!(prepare(b"").is_err());
        // A PNG header claiming 20,000 × 20,000 pixels: refused before any allocation.
        let mut huge = png(1, 1, false);
        huge[16..20].copy_from_slice(&20_000u32.to_be_bytes());
        huge[20..24].copy_from_slice(&20_000u32.to_be_bytes());
        let crc = crc32(&huge[12..29]);
        huge[29..33].copy_from_slice(&crc.to_be_bytes());
        let refused = prepare(&huge).unwrap_err();
        assert!(refused.contains("pixels"), "{refused}");
        // Within the side, beyond the pixels: 10,000 × 6,000.
        huge[16..20].copy_from_slice(&10_000u32.to_be_bytes());
        huge[20..24].copy_from_slice(&6_000u32.to_be_bytes());
        let crc = crc32(&huge[12..29]);
        huge[29..33].copy_from_slice(&crc.to_be_bytes());
        let refused = prepare(&huge).unwrap_err();
        assert!(refused.contains("megapixels"), "{refused}");
        // A truncated JPEG.
        assert!(prepare(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 16, b'J']).is_err());
    }
}
