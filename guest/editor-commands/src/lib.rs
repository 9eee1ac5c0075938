//! A few editor commands, written as one extension plugin.

use editor_api::{Buffer, Change, CommandError, CommandInfo, Editor, EditorImport, Extension};
use scion_sdk::plugin;

/// The extension (it counts the commands it ran).
#[derive(Default)]
pub struct TextTools {
    runs: u32,
}

const COMMANDS: &[(&str, &str)] = &[
    ("sort-lines", "Sort the selected lines (or all lines)"),
    ("upper-case", "Upper-case the selection"),
    ("word-count", "Count the words in the buffer"),
    ("paste-quoted", "Paste the clipboard as a quote"),
    ("explode", "A buggy command that panics"),
];

/// The selection, or the whole buffer when it is empty.
fn target(buffer: &Buffer) -> (usize, usize) {
    let (s, e) = (buffer.selection.0 as usize, buffer.selection.1 as usize);
    if s == e { (0, buffer.text.len()) } else { (s.min(e), s.max(e)) }
}

#[plugin(uses(Editor))]
impl Extension for TextTools {
    fn commands(&self) -> Vec<CommandInfo> {
        COMMANDS
            .iter()
            .map(|(id, title)| CommandInfo { id: id.to_string(), title: title.to_string() })
            .collect()
    }

    fn run(&mut self, id: String, buffer: Buffer) -> Result<Vec<Change>, CommandError> {
        self.runs += 1;
        let (start, end) = target(&buffer);
        let Some(region) = buffer.text.get(start..end) else {
            return Err(CommandError::Failed(
                "the selection is not on character boundaries".into(),
            ));
        };
        let replace = |text: String| vec![Change { start: start as u32, end: end as u32, text }];
        match id.as_str() {
            "sort-lines" => {
                let mut lines: Vec<&str> = region.lines().collect();
                lines.sort_unstable();
                let mut text = lines.join("\n");
                if region.ends_with('\n') {
                    text.push('\n');
                }
                Ok(replace(text))
            }
            "upper-case" if buffer.selection.0 == buffer.selection.1 => {
                Err(CommandError::NeedsSelection)
            }
            "upper-case" => Ok(replace(region.to_uppercase())),
            "word-count" => {
                let words = buffer.text.split_whitespace().count();
                EditorImport.status(format!("{words} words (command #{} this session)", self.runs));
                Ok(vec![])
            }
            "paste-quoted" => {
                let clip = EditorImport.clipboard().unwrap_or_default();
                let quoted: String = clip.lines().map(|l| format!("> {l}\n")).collect();
                let at = buffer.selection.1;
                Ok(vec![Change { start: at, end: at, text: quoted }])
            }
            "explode" => {
                panic!("explode: this command is broken on purpose ({} bytes)", buffer.text.len())
            }
            other => Err(CommandError::Unknown(other.to_string())),
        }
    }
}
