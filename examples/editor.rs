//! A text editor core whose commands are plugins (guest/editor-commands,
//! interfaces in guest/editor-api).
//!
//! The editor lists the plugin's commands, runs a scripted session, checks
//! every change a command returns before applying it, and survives a
//! command that panics by restarting its plugin.
//!
//! Run: `cargo run --release -p scion-examples --example editor`

use editor_api::{Buffer, Change, Editor, EditorServer, ExtensionClient};
use scion::{Engine, Plugin};

/// What the editor offers to commands: a status line and a clipboard.
struct Ui {
    clipboard: String,
}

impl Editor for Ui {
    fn status(&mut self, message: String) {
        println!("  [status] {message}");
    }
    fn clipboard(&mut self) -> Option<String> {
        Some(self.clipboard.clone())
    }
}

/// The document: text and selection.
struct Document {
    text: String,
    selection: (usize, usize),
}

impl Document {
    /// Applies changes after checking them: in bounds, on character
    /// boundaries, sorted and not overlapping. A buggy command cannot
    /// corrupt the document.
    fn apply(&mut self, mut changes: Vec<Change>) -> Result<usize, String> {
        changes.sort_by_key(|c| c.start);
        let mut last_end = 0;
        for c in &changes {
            let (s, e) = (c.start as usize, c.end as usize);
            if s > e
                || e > self.text.len()
                || !self.text.is_char_boundary(s)
                || !self.text.is_char_boundary(e)
            {
                return Err(format!("invalid change {s}..{e}"));
            }
            if s < last_end {
                return Err(format!("overlapping change at {s}"));
            }
            last_end = e;
        }
        for c in changes.iter().rev() {
            self.text.replace_range(c.start as usize..c.end as usize, &c.text);
        }
        self.selection = (0, 0);
        Ok(changes.len())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let engine = Engine::default();
    let mut plugin = Plugin::builder(&engine)
        .name("text-tools")
        .host(EditorServer(Ui { clipboard: "to be\nor not to be".into() }))
        .load_file(env!("SCION_GUEST_EDITOR_COMMANDS"))?;
    let mut doc = Document { text: "pear\napple\nfig\nbanana\n".into(), selection: (0, 0) };

    println!("commands:");
    for c in ExtensionClient::new(&mut plugin)?.commands()? {
        println!("  {:<14} {}", c.id, c.title);
    }

    let session: &[(&str, Option<(usize, usize)>)] = &[
        ("sort-lines", None),
        ("upper-case", Some((0, 5))),
        ("upper-case", None),
        ("paste-quoted", Some((0, 0))),
        ("word-count", None),
        ("explode", None),
        ("sort-lines", None),
        ("no-such-command", None),
    ];
    for &(id, selection) in session {
        if let Some(sel) = selection {
            doc.selection = sel;
        }
        println!("\n> {id}");
        let buffer = Buffer {
            text: doc.text.clone(),
            selection: (doc.selection.0 as u32, doc.selection.1 as u32),
        };
        let result =
            ExtensionClient::new(&mut plugin).and_then(|mut ext| ext.run(id.into(), buffer));
        match result {
            Ok(Ok(changes)) => match doc.apply(changes) {
                Ok(0) => {}
                Ok(n) => println!("{n} change(s):\n{}", indent(&doc.text)),
                Err(e) => println!("  refused the command's edit: {e}"),
            },
            Ok(Err(e)) => println!("  command failed: {e:?}"),
            Err(e) => {
                println!("  plugin crashed: {}", e.to_string().lines().next().unwrap_or_default());
                plugin.restart()?;
                println!("  (plugin restarted; the document is untouched)");
            }
        }
    }
    Ok(())
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  | {l}")).collect::<Vec<_>>().join("\n")
}
