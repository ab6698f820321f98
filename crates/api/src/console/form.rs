//! The console's edit forms, described as data and drawn by one template (`form.html`), so every
//! form gets the same accessibility for free: a label per field, hints and errors tied to the
//! field with `aria-describedby` and `aria-invalid`, an error summary announced with
//! `role="alert"`, and the CSRF token. Handlers re-render the form with the values entered and
//! the API's message beside the field it names ([`FieldErrors`]).

use super::page::Chrome;
use askama::Template;

/// One input of a form.
pub struct Field {
    /// The form name, also the element id (prefixed with `f-`).
    pub name: &'static str,
    pub label: &'static str,
    /// `text`, `password`, `select`, `checkbox`, `textarea` or `readonly`.
    pub kind: &'static str,
    pub value: String,
    /// `(value, label)` of a select.
    pub options: Vec<(String, String)>,
    pub hint: String,
    pub error: Option<String>,
}

impl Field {
    pub fn text(name: &'static str, label: &'static str, value: &str) -> Self {
        Self {
            name,
            label,
            kind: "text",
            value: value.to_string(),
            options: Vec::new(),
            hint: String::new(),
            error: None,
        }
    }

    pub fn kind(mut self, kind: &'static str) -> Self {
        self.kind = kind;
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = hint.into();
        self
    }

    /// A select of `options` (`value`, `label`).
    pub fn select(mut self, options: &[(&str, &str)]) -> Self {
        self.kind = "select";
        self.options = options
            .iter()
            .map(|(v, l)| (v.to_string(), l.to_string()))
            .collect();
        self
    }

    /// A select of owned options.
    pub fn choices(mut self, options: Vec<(String, String)>) -> Self {
        self.kind = "select";
        self.options = options;
        self
    }

    /// A checkbox, checked when `on`.
    pub fn checkbox(name: &'static str, label: &'static str, on: bool) -> Self {
        Self::text(name, label, if on { "true" } else { "" }).kind("checkbox")
    }

    pub fn checked(&self) -> bool {
        !self.value.is_empty()
    }

    /// The ids `aria-describedby` names: the hint and the error, when there are any.
    pub fn described_by(&self) -> String {
        let mut ids = Vec::new();
        if !self.hint.is_empty() {
            ids.push(format!("f-{}-hint", self.name));
        }
        if self.error.is_some() {
            ids.push(format!("f-{}-err", self.name));
        }
        ids.join(" ")
    }
}

/// Fields under one legend.
pub struct Group {
    pub legend: &'static str,
    pub fields: Vec<Field>,
}

/// A submit button: `name=value` tells the handler which one was pressed.
pub struct Button {
    pub value: &'static str,
    pub label: &'static str,
}

/// A second, smaller form on the same page (an action beside the edit, such as a key rotation).
pub struct SideForm {
    pub title: &'static str,
    pub note: String,
    pub action: String,
    pub fields: Vec<Field>,
    pub button: &'static str,
}

/// A whole form page.
#[derive(Template)]
#[template(path = "console/form.html")]
pub struct FormPage {
    pub chrome: Chrome,
    pub title: String,
    pub intro: String,
    pub action: String,
    pub groups: Vec<Group>,
    /// An error no field owns (or the summary of field errors).
    pub error: Option<String>,
    /// A block of text shown before the buttons (the JSON Patch preview).
    pub preview: Option<(String, String)>,
    pub buttons: Vec<Button>,
    pub back: String,
    pub side_forms: Vec<SideForm>,
}

impl FormPage {
    /// Puts `message` beside the field `errors` maps it to, or above the form.
    pub fn place_error(&mut self, message: &str, errors: &FieldErrors) {
        let target = errors.field_for(message);
        let field = target.and_then(|name| {
            self.groups
                .iter_mut()
                .flat_map(|g| g.fields.iter_mut())
                .find(|f| f.name == name)
        });
        match field {
            Some(f) => {
                f.error = Some(message.to_string());
                self.error = Some(format!("{}: {message}", f.label));
            }
            None => self.error = Some(message.to_string()),
        }
    }
}

/// Which form field an API message is about. API messages name the field by its JSON path
/// (`invalid httpConfig.url: ...`, `triggerId: ...`, `expirationSigningKey ...`); the table maps
/// path prefixes to form names, the longest prefix winning.
pub struct FieldErrors(pub &'static [(&'static str, &'static str)]);

impl FieldErrors {
    pub fn field_for(&self, message: &str) -> Option<&'static str> {
        let m = message.trim();
        let m = m.strip_prefix("invalid ").unwrap_or(m);
        let path: String = m
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '[' | ']'))
            .collect();
        self.0
            .iter()
            .filter(|(prefix, _)| {
                path == *prefix
                    || path.starts_with(&format!("{prefix}."))
                    || path.starts_with(&format!("{prefix}["))
            })
            .max_by_key(|(prefix, _)| prefix.len())
            .map(|(_, name)| *name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_map_to_the_longest_named_field() {
        let map = FieldErrors(&[
            ("httpConfig", "url"),
            ("httpConfig.url", "url"),
            ("httpConfig.basicAuthConfig", "userName"),
            ("httpConfig.basicAuthConfig.password", "password"),
            ("name", "name"),
        ]);
        assert_eq!(
            map.field_for("invalid httpConfig.url: not a URL"),
            Some("url")
        );
        assert_eq!(
            map.field_for("invalid httpConfig.basicAuthConfig.password: is required"),
            Some("password")
        );
        assert_eq!(
            map.field_for("invalid httpConfig.basicAuthConfig: needs a user"),
            Some("userName")
        );
        assert_eq!(map.field_for("name: too long"), Some("name"));
        assert_eq!(map.field_for("names are odd"), None);
        assert_eq!(map.field_for("something else"), None);
    }
}
