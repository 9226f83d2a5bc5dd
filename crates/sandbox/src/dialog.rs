//! The short dialog text of each call, which `keyword` searches.
//!
//! A dialog is six lines (agent greeting, customer's issue, agent's answer, customer's follow-up,
//! agent's resolution, customer's goodbye), each chosen from the fixed phrases below by a topic.
//! A call stores the indices of its six phrases, not the text: the text is composed on demand.

use std::sync::OnceLock;

use crate::rng::SplitMix64;

/// Number of lines of every dialog.
pub const LINES: usize = 6;

const GREETINGS: &[&str] = &[
    "Good morning, thank you for calling customer service, how can I help you?",
    "Hello, this is customer service, what can I do for you today?",
    "Thank you for waiting, my name is on your screen, how may I help?",
    "Hi, you are through to the support team, how can I assist?",
];

const TRANSFER_GREETINGS: &[&str] = &[
    "Hello, I am taking over this call after the transfer, let me read the notes.",
    "Thanks for holding, the call was transferred to me, I can see your case.",
];

/// Per topic: two issues (customer), two answers (agent), two follow-ups (customer).
const TOPICS: &[[&str; 6]] = &[
    [
        "My last bill is much higher than usual and I do not understand why.",
        "I was charged twice for the same month on my bill.",
        "I can see an extra roaming charge on the invoice, let me explain it.",
        "The bill includes a one-time installation fee, I will break it down for you.",
        "Can you send me an itemised invoice by email?",
        "Will the duplicate charge be refunded automatically?",
    ],
    [
        "The internet connection keeps dropping every evening.",
        "My broadband has been down since this morning.",
        "There is a network outage in your area, engineers are working on it.",
        "I will run a line test on your connection now.",
        "How long until the network is back?",
        "Do I get compensation for the outage?",
    ],
    [
        "I returned the product last week and I want a refund.",
        "The order arrived damaged, I would like my money back.",
        "I have found your return, the refund takes three to five working days.",
        "I will open a refund request for the damaged order.",
        "Will the refund go to the same credit card?",
        "Can I get a replacement instead of a refund?",
    ],
    [
        "I forgot my password and cannot log in to the app.",
        "My account is locked after too many attempts.",
        "I will send a password reset link to your registered email.",
        "I have unlocked the account, please set a new password.",
        "The reset email has not arrived yet.",
        "Is two-factor verification required now?",
    ],
    [
        "My parcel was supposed to arrive yesterday but the delivery never came.",
        "The tracking number shows no update for a week.",
        "The courier reports a delay at the depot, delivery is planned for tomorrow.",
        "I will contact the courier and reschedule the delivery.",
        "Can the delivery be left with my neighbour?",
        "Can I pick the parcel up myself?",
    ],
    [
        "I would like to upgrade my plan to get more data.",
        "Is there a cheaper plan with the same speed?",
        "The premium plan doubles your data for a small monthly fee.",
        "I can move you to the annual plan with a discount.",
        "Does the upgrade start immediately?",
        "Is there a contract period for the new plan?",
    ],
    [
        "I want to make a complaint about the technician who visited.",
        "Nobody called me back as promised, this is my third call.",
        "I am sorry about that, I am recording a formal complaint now.",
        "I apologise, I will escalate this to my supervisor.",
        "When will someone contact me about the complaint?",
        "I expect a written answer this time.",
    ],
    [
        "I want to cancel my contract at the end of the month.",
        "How do I terminate the subscription?",
        "I can process the cancellation, there is a notice period of thirty days.",
        "Before you cancel, may I offer you a loyalty discount?",
        "Is there an early termination fee?",
        "Please confirm the cancellation in writing.",
    ],
];

const RESOLUTIONS: &[&str] = &[
    "Is there anything else I can help you with today?",
    "I have noted everything in your case, you will receive a confirmation message.",
    "Your ticket number is in the text message I just sent.",
    "I have resolved this for you, thank you for your patience.",
];

const CLOSINGS: &[&str] = &[
    "No, that is all, thank you very much, goodbye.",
    "Thanks for your help, have a nice day.",
    "Okay, I will wait for the message then, bye.",
    "That solves it, thank you.",
];

/// Every phrase, in one list: a call's phrase indices point into it.
pub fn phrases() -> &'static [&'static str] {
    static ALL: OnceLock<Vec<&'static str>> = OnceLock::new();
    ALL.get_or_init(|| {
        let mut all = Vec::new();
        all.extend_from_slice(GREETINGS);
        all.extend_from_slice(TRANSFER_GREETINGS);
        for topic in TOPICS {
            all.extend_from_slice(topic);
        }
        all.extend_from_slice(RESOLUTIONS);
        all.extend_from_slice(CLOSINGS);
        all
    })
}

/// Every phrase in lower case, for case-insensitive matching.
pub fn phrases_lowercase() -> &'static [String] {
    static ALL: OnceLock<Vec<String>> = OnceLock::new();
    ALL.get_or_init(|| phrases().iter().map(|p| p.to_lowercase()).collect())
}

/// Chooses the six phrase indices of a dialog. A `transferred` call (not the first of its group)
/// opens with a transfer greeting.
pub fn choose(rng: &mut SplitMix64, transferred: bool) -> [u8; LINES] {
    let transfer_base = GREETINGS.len();
    let topics_base = transfer_base + TRANSFER_GREETINGS.len();
    let resolutions_base = topics_base + TOPICS.len() * 6;
    let closings_base = resolutions_base + RESOLUTIONS.len();
    let pick = |rng: &mut SplitMix64, base: usize, len: usize| {
        (base + rng.below(len as u64) as usize) as u8
    };

    let greeting = if transferred {
        pick(rng, transfer_base, TRANSFER_GREETINGS.len())
    } else {
        pick(rng, 0, GREETINGS.len())
    };
    let topic = topics_base + 6 * rng.below(TOPICS.len() as u64) as usize;
    [
        greeting,
        pick(rng, topic, 2),
        pick(rng, topic + 2, 2),
        pick(rng, topic + 4, 2),
        pick(rng, resolutions_base, RESOLUTIONS.len()),
        pick(rng, closings_base, CLOSINGS.len()),
    ]
}

/// The text of a dialog: its lines joined by `\n`.
pub fn text(ids: &[u8; LINES]) -> String {
    let all = phrases();
    ids.iter()
        .map(|&i| all.get(usize::from(i)).copied().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phrase_indices_fit_in_a_byte() {
        assert!(phrases().len() <= 256);
        let mut rng = SplitMix64::new(1);
        for _ in 0..100 {
            for id in choose(&mut rng, false) {
                assert!(usize::from(id) < phrases().len());
            }
        }
    }

    #[test]
    fn no_phrase_spans_lines() {
        assert!(phrases().iter().all(|p| !p.contains('\n')));
    }
}
