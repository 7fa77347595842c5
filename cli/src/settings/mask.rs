//! Passwords out of URLs before they are shown: `amqp://user:***@host/vh`.
//! A value may be a comma-separated list of URLs (several brokers).

/// `text` with the password of every URL in it (comma-separated) replaced
/// by `***`; anything that is not a URL with a password stays as it is.
pub fn mask_passwords(text: &str) -> String {
    text.split(',')
        .map(|part| match url::Url::parse(part.trim()) {
            Ok(mut url) if url.password().is_some() => {
                let _ = url.set_password(Some("***"));
                url.to_string()
            }
            _ => part.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_masked_in_every_url_of_a_list() {
        assert_eq!(
            mask_passwords("amqp://u:hunter2@a:5672/vh,amqp://u:pw2@b:5672/vh"),
            "amqp://u:***@a:5672/vh,amqp://u:***@b:5672/vh"
        );
        assert_eq!(
            mask_passwords("postgres://reg:pw@db/registry"),
            "postgres://reg:***@db/registry"
        );
        assert_eq!(mask_passwords("amqp://localhost"), "amqp://localhost");
        assert_eq!(mask_passwords("text, with a comma"), "text, with a comma");
    }
}
