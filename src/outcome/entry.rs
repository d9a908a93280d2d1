//! One line of input as the results remember it: where it came from, the
//! text as written (escaped), and the domain it names or why it names none.

use crate::name::DomainName;
use crate::text::SafeText;
use std::fmt;
use std::sync::Arc;

/// Where an entry was read.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Place {
    /// A DOMAIN argument on the command line.
    Argument,
    /// Standard input.
    Stdin,
    /// A file, by its path as given.
    File(Arc<SafeText>),
}

/// Where an entry came from: a place, and the line there (or the
/// argument's position), counted from 1.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Origin {
    /// Where it was read.
    pub place: Place,
    /// The line there, or the argument's position, from 1.
    pub line: u64,
}

impl Origin {
    /// Read back what [`Origin`]'s `Display` wrote: `argument N`,
    /// `stdin:N` or `FILE:N`.
    pub fn parse(text: &str) -> Option<Origin> {
        if let Some(n) = text.strip_prefix("argument ") {
            return Some(Origin {
                place: Place::Argument,
                line: n.parse().ok()?,
            });
        }
        let (place, line) = text.rsplit_once(':')?;
        let line = line.parse().ok()?;
        let place = match place {
            "stdin" => Place::Stdin,
            file => Place::File(Arc::new(SafeText::new(file))),
        };
        Some(Origin { place, line })
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.place {
            Place::Argument => write!(f, "argument {}", self.line),
            Place::Stdin => write!(f, "stdin:{}", self.line),
            Place::File(path) => write!(f, "{path}:{}", self.line),
        }
    }
}

/// One domain to look up, or a line that is not one.
#[derive(Clone, Debug)]
pub struct Entry {
    /// Position in the run's input order, from 0, counting each distinct
    /// domain once.
    pub seq: u64,
    /// Where it came from.
    pub origin: Origin,
    /// The text as written, escaped and cut short if long.
    pub input: SafeText,
    /// The domain, or why the text is not one.
    pub name: Result<DomainName, SafeText>,
}

impl Entry {
    /// The name to show for this entry: the domain, or for an invalid line
    /// the text as written.
    pub fn display_name(&self) -> &str {
        match &self.name {
            Ok(name) => name.as_str(),
            Err(_) => self.input.as_str(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_read_back_as_written() {
        for (text, place) in [
            ("argument 3", Place::Argument),
            ("stdin:12", Place::Stdin),
            (
                "dir/list.txt:7",
                Place::File(Arc::new(SafeText::new("dir/list.txt"))),
            ),
            (
                "c:\\a:b.txt:9",
                Place::File(Arc::new(SafeText::new("c:\\a:b.txt"))),
            ),
        ] {
            let o = Origin::parse(text).unwrap();
            assert_eq!(o.place, place);
            assert_eq!(o.to_string(), text);
        }
        assert_eq!(Origin::parse("nowhere"), None);
        assert_eq!(Origin::parse("argument x"), None);
        // A file name is escaped on the way in.
        let o = Origin::parse("evil\u{1b}[2J.txt:1").unwrap();
        assert_eq!(o.to_string(), "evil\\u{1b}[2J.txt:1");
    }
}
