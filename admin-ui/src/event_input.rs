//! An event as typed (times in Beijing, `YYYY-MM-DDTHH:MM`), read once into a
//! [`NewEvent`] for the API and the page alike.

use crate::{
    backend::{EventForm, NewEvent},
    time,
};

/// The event `form` describes, or the field that cannot be read and why.
pub(crate) fn read(form: EventForm) -> Result<NewEvent, (&'static str, &'static str)> {
    const TIME: &str = "a time written YYYY-MM-DDTHH:MM (Beijing)";
    let starts_at = time::parse_local_input(form.starts_at.trim()).ok_or(("starts_at", TIME))?;
    let ends_at = time::parse_local_input(form.ends_at.trim()).ok_or(("ends_at", TIME))?;
    Ok(NewEvent {
        title: form.title,
        description: form.description,
        field: form.field,
        starts_at,
        ends_at,
        place: form.place,
        link: form.link,
        capacity: form.capacity,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_read_in_beijing_and_a_bad_one_is_named() {
        let form = EventForm {
            title: "对接会".into(),
            starts_at: "2027-03-01T09:00".into(),
            ends_at: "2027-03-01T17:00".into(),
            ..EventForm::default()
        };
        let event = read(form.clone()).ok();
        assert_eq!(
            event.map(|e| (e.starts_at, e.ends_at - e.starts_at)),
            Some((1_803_862_800, 8 * 3_600))
        );
        let bad = EventForm {
            ends_at: "下午五点".into(),
            ..form
        };
        assert_eq!(read(bad).err().map(|(field, _)| field), Some("ends_at"));
    }
}
