use moderator_api::{Message, ModeratorClient, Rules};
use scion::{Config, Engine, Plugin};

fn main() -> Result<(), scion::Error> {
    let path = std::env::args().nth(1).expect("usage: moderator PLUGIN.wasm");
    let engine = Engine::new(Config::new().consume_fuel(true))?;
    let mut plugin = Plugin::builder(&engine)
        .config(&Rules { banned: vec!["spam".into()] })
        .fuel(10_000_000)
        .load_file(&path)?;

    let mut moderator = ModeratorClient::new(&mut plugin)?;
    for text in ["hello there", "BUY NOW", "cheap spam here"] {
        let verdict = moderator.review(Message { author: "ann".into(), text: text.into() })?;
        println!("{text:?} -> {verdict:?}");
    }
    println!("rejected: {}", moderator.rejected()?);
    println!("fuel left: {}", plugin.get_fuel()?);
    Ok(())
}
