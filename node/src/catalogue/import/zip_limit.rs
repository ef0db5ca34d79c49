//! A guard against zip bombs. An XLSX file is a zip archive, and a few megabytes of it
//! can unpack to gigabytes. Before the XLSX reader opens anything, this adds up the
//! unpacked sizes the archive declares and refuses a file that declares too much; the
//! zip reader in turn fails any entry that unpacks past its declared size. So the
//! declared sizes bound what reading the file can allocate.
//!
//! Every central-directory header in the bytes is counted, wherever it sits, so a
//! crafted archive cannot show this check one directory and the zip reader another.

use super::ImportError;

/// Most bytes a workbook may unpack to; a full 5,000-row sheet needs a fraction of it.
pub(super) const MAX_UNPACKED_BYTES: u64 = 128 * 1024 * 1024;

/// "PK\1\2", the start of a central-directory file header.
const SIGNATURE: [u8; 4] = *b"PK\x01\x02";
/// A central-directory file header's fixed part.
const HEADER_LEN: usize = 46;
/// Compression methods some zip reader may unpack: stored, deflate, deflate64, bzip2,
/// lzma, zstd, xz, ppmd and AES. A header naming another method cannot be unpacked,
/// and stray bytes that happen to spell the signature almost never name one of these.
const METHODS: [u16; 9] = [0, 8, 9, 12, 14, 93, 95, 98, 99];

/// Refuses an archive whose entries declare more than [`MAX_UNPACKED_BYTES`].
pub(super) fn check(bytes: &[u8]) -> Result<(), ImportError> {
    let mut total: u64 = 0;
    let starts = bytes
        .windows(SIGNATURE.len())
        .enumerate()
        .filter(|(_, w)| *w == SIGNATURE)
        .map(|(start, _)| start);
    for start in starts {
        let Some(header) = bytes
            .get(start..start + HEADER_LEN)
            .and_then(|h| <&[u8; HEADER_LEN]>::try_from(h).ok())
        else {
            continue;
        };
        let method = u16::from_le_bytes([header[10], header[11]]);
        if !METHODS.contains(&method) {
            continue;
        }
        let size = u32::from_le_bytes([header[24], header[25], header[26], header[27]]);
        // 0xFFFFFFFF means the real size is in a zip64 field: 4 GiB or more.
        if size == u32::MAX {
            return Err(ImportError::TooLargeUnpacked);
        }
        total += u64::from(size);
        if total > MAX_UNPACKED_BYTES {
            return Err(ImportError::TooLargeUnpacked);
        }
    }
    Ok(())
}
