//! Availability digests: an owner's compact free/busy summary of one instrument for the
//! coming weeks, hour by hour. A hint for browsing; only the owner's answer books.

use prost::Message;

use crate::{
    envelope::{Domain, SignedEnvelope},
    ids::InstitutionId,
    keys::SecretKey,
    proto,
    record::{RecordError, check_local_id, date, field},
};

impl Domain {
    /// An availability digest, signed by the owning institution's node key.
    pub const AVAILABILITY: Domain = Domain("alliance/availability/v1");
}

/// Weeks a digest covers.
pub const DIGEST_WEEKS: usize = 8;
/// Hours a digest covers.
pub const DIGEST_HOURS: usize = DIGEST_WEEKS * 7 * 24;
/// Encoded size of the hour states: 2 bits each.
const PACKED_BYTES: usize = DIGEST_HOURS / 4;

/// The state of one hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum HourState {
    /// Outside opening hours.
    Closed = 0,
    Free = 1,
    Booked = 2,
    Maintenance = 3,
}

impl HourState {
    fn from_bits(bits: u8) -> HourState {
        match bits & 0b11 {
            0 => HourState::Closed,
            1 => HourState::Free,
            2 => HourState::Booked,
            _ => HourState::Maintenance,
        }
    }
}

/// One instrument's free/busy summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvailabilityDigest {
    pub institution_id: InstitutionId,
    pub local_id: String,
    /// The owner's revision counter when the digest was made.
    pub revision: u64,
    /// The Monday the digest starts on, `YYYY-MM-DD` in Asia/Shanghai.
    pub first_day: String,
    /// [`DIGEST_HOURS`] states, from 00:00 of `first_day`.
    pub hours: Vec<HourState>,
    /// The owner's limits on a booking; `None` from an owner that does not say.
    pub window: Option<BookingWindow>,
    /// Bit `d` set: day `d` from `first_day` is a holiday the instrument keeps closed.
    pub holiday_days: u64,
}

/// The public part of an instrument's booking rules, carried in its digest so every
/// node's calendar can show which hours a request could not take (the owner still
/// decides each request).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BookingWindow {
    /// Slots start and end on multiples of this, from midnight in Shanghai (1 to 1440).
    pub granularity_minutes: u32,
    /// A slot starts at least this long after the request.
    pub min_lead_minutes: u32,
    /// How far ahead a slot may start, in days.
    pub horizon_days: u32,
    /// The longest booking, in minutes.
    pub max_duration_minutes: u32,
}

impl From<&crate::booking::BookingRules> for BookingWindow {
    fn from(rules: &crate::booking::BookingRules) -> Self {
        BookingWindow {
            granularity_minutes: rules.granularity_minutes,
            min_lead_minutes: rules.min_lead_minutes,
            horizon_days: rules.horizon_days,
            max_duration_minutes: rules.max_duration_minutes,
        }
    }
}

impl TryFrom<proto::BookingWindow> for BookingWindow {
    type Error = RecordError;

    /// Within the bounds a manager's rules keep.
    fn try_from(raw: proto::BookingWindow) -> Result<Self, Self::Error> {
        use crate::booking::rule_limits as limits;
        let within = |name: &'static str, value: u32, range: std::ops::RangeInclusive<u32>| {
            if range.contains(&value) {
                Ok(value)
            } else {
                Err(field(
                    name,
                    format!("{value} is outside {}..={}", range.start(), range.end()),
                ))
            }
        };
        Ok(BookingWindow {
            granularity_minutes: within(
                "window.granularity_minutes",
                raw.granularity_minutes,
                1..=limits::MAX_GRANULARITY_MINUTES,
            )?,
            min_lead_minutes: within(
                "window.min_lead_minutes",
                raw.min_lead_minutes,
                0..=limits::MAX_LEAD_MINUTES,
            )?,
            horizon_days: within(
                "window.horizon_days",
                raw.horizon_days,
                1..=limits::MAX_DAYS,
            )?,
            max_duration_minutes: within(
                "window.max_duration_minutes",
                raw.max_duration_minutes,
                0..=limits::MAX_DURATION_MINUTES,
            )?,
        })
    }
}

impl AvailabilityDigest {
    /// The instrument's alliance-wide id.
    pub fn instrument_id(&self) -> String {
        format!("{}/{}", self.institution_id, self.local_id)
    }

    /// The state of `hour` (0..24) on day `day` (0 = `first_day`), or `None` outside the
    /// digest.
    pub fn state(&self, day: usize, hour: usize) -> Option<HourState> {
        if hour >= 24 {
            return None;
        }
        self.hours.get(day * 24 + hour).copied()
    }

    /// Signs with the owner's node key; returns the encoded envelope.
    pub fn seal(&self, owner: &SecretKey) -> Vec<u8> {
        SignedEnvelope::seal(
            owner,
            Domain::AVAILABILITY,
            proto::AvailabilityDigest::from(self).encode_to_vec(),
        )
        .encode()
    }
}

impl From<&AvailabilityDigest> for proto::AvailabilityDigest {
    fn from(d: &AvailabilityDigest) -> Self {
        let mut packed = vec![0u8; PACKED_BYTES];
        for (i, state) in d.hours.iter().take(DIGEST_HOURS).enumerate() {
            packed[i / 4] |= (*state as u8) << ((i % 4) * 2);
        }
        proto::AvailabilityDigest {
            institution_id: d.institution_id.to_string(),
            local_id: d.local_id.clone(),
            revision: d.revision,
            first_day: d.first_day.clone(),
            hours: packed,
            window: d.window.map(|w| proto::BookingWindow {
                granularity_minutes: w.granularity_minutes,
                min_lead_minutes: w.min_lead_minutes,
                horizon_days: w.horizon_days,
                max_duration_minutes: w.max_duration_minutes,
            }),
            holiday_days: d.holiday_days,
        }
    }
}

impl TryFrom<proto::AvailabilityDigest> for AvailabilityDigest {
    type Error = RecordError;

    fn try_from(raw: proto::AvailabilityDigest) -> Result<Self, Self::Error> {
        if raw.hours.len() != PACKED_BYTES {
            return Err(field(
                "hours",
                format!("{PACKED_BYTES} bytes expected, {} found", raw.hours.len()),
            ));
        }
        if raw.first_day.is_empty() {
            return Err(field("first_day", "required"));
        }
        let hours = (0..DIGEST_HOURS)
            .map(|i| HourState::from_bits(raw.hours[i / 4] >> ((i % 4) * 2)))
            .collect();
        Ok(AvailabilityDigest {
            institution_id: InstitutionId::try_from(raw.institution_id)?,
            local_id: check_local_id(raw.local_id)?,
            revision: raw.revision,
            first_day: date("first_day", raw.first_day)?,
            hours,
            window: raw.window.map(BookingWindow::try_from).transpose()?,
            holiday_days: raw.holiday_days,
        })
    }
}
