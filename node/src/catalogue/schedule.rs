//! A weekly opening schedule read from the published 开放机时安排 text, hour by hour.
//!
//! Institutions write opening hours the way Chinese platforms show them: 「周一至周五
//! 8:30–11:30，13:30–17:30」, 「工作日 9:00-17:00」, 「每天 8:00-22:00」, 「7×24 小时」,
//! 「周一、三、五 全天」. The reader takes day ranges and lists (周一…周日, 工作日, 每天,
//! 周末) and time ranges (`H:MM` separated by `-`, `–`, `~`, `至` or `到`). An hour counts as
//! open when at least half of it is. Text it cannot read gives office hours (Monday to
//! Friday, 8:00–12:00 and 13:00–17:00) — the digest is a browsing hint, and the owner's
//! answer to a booking decides.

/// Open hours per weekday, Monday first.
pub type Week = [[bool; 24]; 7];

const DAY_CHARS: [char; 7] = ['一', '二', '三', '四', '五', '六', '日'];

fn day_index(c: char) -> Option<usize> {
    match c {
        '天' => Some(6),
        '七' => Some(6),
        _ => DAY_CHARS.iter().position(|d| *d == c),
    }
}

/// Which weekdays the text names.
fn days(text: &str) -> [bool; 7] {
    let mut days = [false; 7];
    let all = [
        "每天",
        "每日",
        "全周",
        "7×24",
        "7*24",
        "7x24",
        "周一至周日",
        "周一到周日",
    ];
    if all.iter().any(|a| text.contains(a)) {
        return [true; 7];
    }
    if text.contains("工作日") {
        days[..5].iter_mut().for_each(|d| *d = true);
    }
    if text.contains("周末") || text.contains("双休日") {
        days[5] = true;
        days[6] = true;
    }
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if matches!(chars[i], '周' | '星') {
            // 周一 / 星期一, then maybe 至/到/- and another day, or 、 and more days.
            let mut j = i + 1;
            if chars.get(j) == Some(&'期') {
                j += 1;
            }
            let Some(first) = chars.get(j).and_then(|c| day_index(*c)) else {
                i += 1;
                continue;
            };
            days[first] = true;
            let mut k = j + 1;
            if matches!(chars.get(k), Some('至' | '到' | '-' | '–' | '~' | '—')) {
                let mut m = k + 1;
                while matches!(chars.get(m), Some('周' | '星' | '期')) {
                    m += 1;
                }
                if let Some(last) = chars.get(m).and_then(|c| day_index(*c)) {
                    days[first..=last.max(first)].fill(true);
                    k = m + 1;
                }
            }
            // 周一、三、五
            while chars.get(k) == Some(&'、') {
                match chars.get(k + 1).and_then(|c| day_index(*c)) {
                    Some(d) => {
                        days[d] = true;
                        k += 2;
                    }
                    None => break,
                }
            }
            i = k;
        } else {
            i += 1;
        }
    }
    days
}

/// Minutes since midnight of each `H:MM` (or `H：MM`, or `H点`) in the text, in order.
fn times(text: &str) -> Vec<u32> {
    let chars: Vec<char> = text.chars().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
        let hour: String = chars[start..i].iter().collect();
        let Ok(hour) = hour.parse::<u32>() else {
            continue;
        };
        let mut minute = 0;
        if matches!(chars.get(i), Some(':' | '：')) {
            let m_start = i + 1;
            let mut m_end = m_start;
            while m_end < chars.len() && chars[m_end].is_ascii_digit() {
                m_end += 1;
            }
            let text: String = chars[m_start..m_end].iter().collect();
            minute = text.parse::<u32>().unwrap_or(0);
            i = m_end;
        } else if chars.get(i) != Some(&'点') {
            // A bare number (a day count, "7×24") is not a time.
            continue;
        }
        if hour <= 24 && minute < 60 {
            found.push(hour * 60 + minute);
        }
    }
    found
}

/// Office hours: the schedule of text that cannot be read.
pub fn office_hours() -> Week {
    let mut week = [[false; 24]; 7];
    for day in week.iter_mut().take(5) {
        for h in (8..12).chain(13..17) {
            day[h] = true;
        }
    }
    week
}

/// The weekly schedule `text` describes.
pub fn parse(text: &str) -> Week {
    let text = text.trim();
    let mut days = days(text);
    if days.iter().all(|d| !d) {
        days[..5].iter_mut().for_each(|d| *d = true);
    }
    let whole_day = ["全天", "24小时", "24 小时", "7×24", "7*24", "7x24"]
        .iter()
        .any(|w| text.contains(w));
    let mut open_minutes = [false; 24 * 60];
    if whole_day {
        open_minutes = [true; 24 * 60];
    } else {
        let times = times(text);
        for pair in times.chunks_exact(2) {
            let (from, to) = (pair[0], pair[1].min(24 * 60));
            for m in from..to {
                if let Some(slot) = open_minutes.get_mut(m as usize) {
                    *slot = true;
                }
            }
        }
    }
    if open_minutes.iter().all(|m| !m) {
        return office_hours();
    }
    let mut hours = [false; 24];
    for (h, open) in hours.iter_mut().enumerate() {
        *open = open_minutes[h * 60..(h + 1) * 60]
            .iter()
            .filter(|m| **m)
            .count()
            >= 30;
    }
    let mut week = [[false; 24]; 7];
    for (d, day) in week.iter_mut().enumerate() {
        if days[d] {
            *day = hours;
        }
    }
    week
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(week: &Week, day: usize) -> Vec<usize> {
        (0..24).filter(|h| week[day][*h]).collect()
    }

    #[test]
    fn weekday_ranges_with_a_lunch_break() {
        let week = parse("周一至周五 8:30–11:30，13:30–17:30");
        assert_eq!(open(&week, 0), [8, 9, 10, 11, 13, 14, 15, 16, 17]);
        assert_eq!(open(&week, 4), open(&week, 0));
        assert!(open(&week, 5).is_empty() && open(&week, 6).is_empty());
    }

    #[test]
    fn every_day_whole_day_and_day_lists() {
        assert_eq!(open(&parse("7×24 小时开放"), 6).len(), 24);
        assert_eq!(
            open(&parse("每天 8:00-22:00"), 5),
            (8..22).collect::<Vec<_>>()
        );
        let week = parse("周一、三、五 全天");
        assert_eq!(
            [0, 1, 2, 3, 4].map(|d| !open(&week, d).is_empty()),
            [true, false, true, false, true]
        );
        assert_eq!(
            open(&parse("工作日 9点-17点"), 2),
            (9..17).collect::<Vec<_>>()
        );
        assert_eq!(open(&parse("星期二到星期四 9:00~12:00"), 1), [9, 10, 11]);
    }

    #[test]
    fn unreadable_text_means_office_hours() {
        assert_eq!(parse("预约开放"), office_hours());
        assert_eq!(parse(""), office_hours());
    }
}
