//! The guide for outside users, in English.

use super::GuideStrings;

pub(crate) static EN: GuideStrings = GuideStrings {
    title: "Guide for outside users",
    intro: "Firms, individuals, and universities and institutes outside the alliance can all use the large scientific instruments of the alliance's members here. This page walks you from registration to payment.",
    register_title: "1. Register",
    register_steps: &[
        "Choose \"Register\" at the top right and give a username, a password, your name, your organisation (\"individual\" if none) and an e-mail address.",
        "Your account then waits for approval by an administrator of the institution that runs this node; once approved you can sign in.",
        "Approval usually takes one working day; contact us below if it is urgent.",
    ],
    register_link: "Register now",
    find_title: "2. Find an instrument",
    find_body: "Under Search, look for a name, model or use (\"mass spectrometry\", \"electron microscope\") and filter by category, institution, city, service mode, user category or free dates. An instrument's page shows its specifications, fees, calendar and contacts.",
    find_link: "Search instruments",
    book_title: "3. Book",
    book_steps: &[
        "Sign in, open the instrument's page and, under \"Book time\", choose the start (Beijing time), the length and the service mode (operate it yourself or send samples), and give the number of samples and the purpose. Clicking a free hour in the calendar fills in the start.",
        "The owning institution answers at once: confirmed, or held for an instrument manager's approval. If the time is taken, the page lists the nearest free slots, each bookable in one click.",
        "\"My bookings\" shows the status, the fee estimate and your notifications, and offers a personal calendar feed for your phone.",
    ],
    pay_title: "4. What you pay",
    pay_intro: "Each instrument is priced for four user categories, and every fee is split into materials, operating and labour. An outside user's category is set by the administrator who approves the registration (a firm gives its unified social credit code), never guessed from a name; pages estimate the fee for your category:",
    tier_own: "staff and students of the institution that owns the instrument.",
    tier_member: "users from the alliance's other member institutions.",
    tier_academic: "universities and research institutes outside the alliance.",
    tier_enterprise: "firms and other for-profit organisations, and individuals.",
    pay_note: "Estimates follow the published fees; the owning institution issues the final bill. Ask it how to pay and obtain an invoice.",
    approval_title: "5. Approval",
    approval_body: "Bookings by outside users usually need an instrument manager's approval. The slot is held for you meanwhile — the answer and \"My bookings\" show until when — and the decision appears among your notifications, with the reason if it is rejected.",
    cancel_title: "6. Cancelling and no-shows",
    cancel_points: &[
        "Cancel a held or confirmed booking under \"My bookings\", giving a reason.",
        "A cancellation shortly before the start may be refused; then contact the person in charge directly.",
        "Not turning up is recorded as a no-show and may count against later bookings.",
    ],
    contact_title: "7. Contact",
    contact_body: "Each instrument's page lists the person in charge, a contact, a phone number and an e-mail address: ask them about bookings and fees. For registration and account approval, contact the institution that runs this node:",
    contact_node: "This node",
    register_page_link: "New here? Read the guide for outside users first",
};
