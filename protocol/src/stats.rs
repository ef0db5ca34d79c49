//! A member's booking service statistics per month and instrument (R14: booking response
//! time and refusals), signed by its node and sent to the province, which keeps the latest
//! of each member.

use prost::Message;

use crate::{
    booking::institution,
    envelope::{Domain, EnvelopeError, SignedEnvelope},
    ids::InstitutionId,
    keys::{PublicKey, SecretKey},
    proto,
    record::{RecordError, check_local_id, field},
    time::UnixTime,
};

impl Domain {
    /// A member's booking service statistics, signed by its node.
    pub const SERVICE_STATISTICS: Domain = Domain("alliance/service-statistics/v1");
}

/// Most months one report carries.
pub const MAX_MONTHS: usize = 24;
/// Most instruments per month.
pub const MAX_INSTRUMENTS: usize = 2_000;

#[derive(Debug, thiserror::Error)]
pub enum StatisticsError {
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    #[error(transparent)]
    Invalid(#[from] RecordError),
}

/// One instrument's month.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InstrumentStatistics {
    pub local_id: String,
    pub requests: u32,
    pub rejections: u32,
    pub responses: u32,
    pub response_seconds: u64,
}

/// One month, `YYYY-MM` in Asia/Shanghai.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MonthStatistics {
    pub month: String,
    pub instruments: Vec<InstrumentStatistics>,
}

/// A member's report.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ServiceStatistics {
    pub institution_id: InstitutionId,
    pub computed_at: UnixTime,
    pub months: Vec<MonthStatistics>,
}

fn is_month(text: &str) -> bool {
    let Some((year, month)) = text.split_once('-') else {
        return false;
    };
    year.len() == 4
        && month.len() == 2
        && year.parse::<u32>().is_ok_and(|y| (1900..3000).contains(&y))
        && month.parse::<u32>().is_ok_and(|m| (1..=12).contains(&m))
}

impl ServiceStatistics {
    fn to_proto(&self) -> proto::ServiceStatistics {
        proto::ServiceStatistics {
            institution_id: self.institution_id.to_string(),
            computed_at: self.computed_at.0,
            months: self
                .months
                .iter()
                .map(|m| proto::MonthStatistics {
                    month: m.month.clone(),
                    instruments: m
                        .instruments
                        .iter()
                        .map(|i| proto::InstrumentStatistics {
                            local_id: i.local_id.clone(),
                            requests: i.requests,
                            rejections: i.rejections,
                            responses: i.responses,
                            response_seconds: i.response_seconds,
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    /// Signs with the member's node key; returns the encoded envelope.
    pub fn seal(&self, node: &SecretKey) -> Vec<u8> {
        SignedEnvelope::seal(
            node,
            Domain::SERVICE_STATISTICS,
            self.to_proto().encode_to_vec(),
        )
        .encode()
    }

    /// Reads a report signed by `node`.
    pub fn open(bytes: &[u8], node: &PublicKey) -> Result<ServiceStatistics, StatisticsError> {
        let envelope = SignedEnvelope::decode(bytes)?;
        let payload = envelope.open_from(Domain::SERVICE_STATISTICS, node)?;
        let raw = proto::ServiceStatistics::decode(payload)
            .map_err(|e| RecordError::Malformed(e.to_string()))?;
        if raw.months.len() > MAX_MONTHS {
            return Err(field("months", format!("at most {MAX_MONTHS}")).into());
        }
        let mut months = Vec::with_capacity(raw.months.len());
        for m in raw.months {
            if !is_month(&m.month) {
                return Err(field("month", "YYYY-MM").into());
            }
            if m.instruments.len() > MAX_INSTRUMENTS {
                return Err(field("instruments", format!("at most {MAX_INSTRUMENTS}")).into());
            }
            let instruments = m
                .instruments
                .into_iter()
                .map(|i| {
                    if i.rejections > i.requests {
                        return Err(field("rejections", "more than the requests"));
                    }
                    Ok(InstrumentStatistics {
                        local_id: check_local_id(i.local_id)?,
                        requests: i.requests,
                        rejections: i.rejections,
                        responses: i.responses,
                        response_seconds: i.response_seconds,
                    })
                })
                .collect::<Result<_, RecordError>>()?;
            months.push(MonthStatistics {
                month: m.month,
                instruments,
            });
        }
        Ok(ServiceStatistics {
            institution_id: institution("institution_id", &raw.institution_id)?,
            computed_at: UnixTime(raw.computed_at),
            months,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn report() -> ServiceStatistics {
        ServiceStatistics {
            institution_id: "dlut".parse().unwrap(),
            computed_at: UnixTime(1_796_000_000),
            months: vec![MonthStatistics {
                month: "2026-11".into(),
                instruments: vec![InstrumentStatistics {
                    local_id: "XPS-1".into(),
                    requests: 10,
                    rejections: 1,
                    responses: 9,
                    response_seconds: 9 * 3_600,
                }],
            }],
        }
    }

    #[test]
    fn a_report_round_trips_under_its_nodes_signature_and_says_what_it_is() {
        let node = SecretKey::generate();
        let sealed = report().seal(&node);
        assert_eq!(
            ServiceStatistics::open(&sealed, &node.public()).unwrap(),
            report()
        );
        assert!(ServiceStatistics::open(&sealed, &SecretKey::generate().public()).is_err());
        assert_eq!(
            crate::mail::kind_of(&sealed).unwrap(),
            Domain::SERVICE_STATISTICS.0
        );
        let node = SecretKey::generate();
        let mut bad = report();
        bad.months[0].month = "2026-13".into();
        assert!(ServiceStatistics::open(&bad.seal(&node), &node.public()).is_err());
        let mut bad = report();
        bad.months[0].instruments[0].rejections = 11;
        assert!(ServiceStatistics::open(&bad.seal(&node), &node.public()).is_err());
    }
}
