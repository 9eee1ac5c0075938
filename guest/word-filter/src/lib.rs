use moderator_api::{Members, MembersImport, Message, Moderator, Rules, Verdict};
use scion_sdk::plugin;

pub struct WordFilter {
    rules: Rules,
    rejected: u32,
}

impl From<Rules> for WordFilter {
    fn from(rules: Rules) -> Self {
        WordFilter { rules, rejected: 0 }
    }
}

#[plugin(config = Rules, uses(Members))]
impl Moderator for WordFilter {
    fn review(&mut self, message: Message) -> Verdict {
        if MembersImport.is_trusted(message.author.clone()) {
            return Verdict::Allow; // the host vouches for them
        }
        let text = message.text.to_lowercase();
        if let Some(word) = self.rules.banned.iter().find(|w| text.contains(w.as_str())) {
            self.rejected += 1;
            return Verdict::Reject { reason: format!("{} said `{word}`", message.author) };
        }
        if message.text.chars().any(char::is_alphabetic)
            && !message.text.chars().any(char::is_lowercase)
        {
            return Verdict::Rewrite(text); // no shouting
        }
        Verdict::Allow
    }

    fn rejected(&self) -> u32 {
        self.rejected
    }
}
