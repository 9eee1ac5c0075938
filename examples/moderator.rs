use moderator_api::{Members, MembersServer, Message, ModeratorClient, Rules};
use scion::{Config, Engine, Plugin};

/// The host's side of the `Members` interface, which the plugin calls.
struct Staff;

impl Members for Staff {
    fn is_trusted(&mut self, author: String) -> bool {
        author == "mod"
    }
}

fn main() -> Result<(), scion::Error> {
    let path = std::env::args().nth(1).expect("usage: moderator PLUGIN.wasm");
    let engine = Engine::new(Config::new().consume_fuel(true))?;
    let mut plugin = Plugin::builder(&engine)
        .config(&Rules { banned: vec!["spam".into()] })
        .host(MembersServer(Staff))
        .fuel(10_000_000)
        .load_file(&path)?;

    let mut moderator = ModeratorClient::new(&mut plugin)?;
    for (author, text) in [
        ("ann", "hello there"),
        ("ann", "BUY NOW"),
        ("bob", "cheap spam here"),
        ("mod", "no spam please"),
    ] {
        let verdict = moderator.review(Message { author: author.into(), text: text.into() })?;
        println!("{author}: {text:?} -> {verdict:?}");
    }
    println!("rejected: {}", moderator.rejected()?);
    println!("fuel left: {}", plugin.get_fuel()?);
    Ok(())
}
