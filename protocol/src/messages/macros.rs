//! `command_enum!`: one table per sub-protocol direction, from which the enum, its
//! command names, its decoder and its encoder are all generated — so a command's
//! wire name is written exactly once.

/// Declares a per-sub-protocol message enum from a `"command" => Variant(Payload)`
/// table and implements `PROTOCOL`, `COMMANDS`, `command()`, `decode()` and
/// `payload()` for it.
macro_rules! command_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident for $protocol:path {
            $(
                $(#[$vmeta:meta])*
                $command:literal => $variant:ident($payload:ty),
            )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        pub enum $name {
            $(
                $(#[$vmeta])*
                $variant($payload),
            )+
        }

        impl $name {
            /// The sub-protocol these messages belong to.
            pub const PROTOCOL: $crate::messages::Protocol = $protocol;

            /// Wire names of every command in this enum.
            pub const COMMANDS: &'static [&'static str] = &[$($command),+];

            /// The wire name of this message's command.
            pub fn command(&self) -> &'static str {
                match self {
                    $(Self::$variant(_) => $command,)+
                }
            }

            /// Decodes the payload of `command`; unknown commands and payloads
            /// that do not fit the schema are errors naming what was wrong.
            pub fn decode(
                command: &str,
                payload: serde_json::Value,
            ) -> Result<Self, $crate::messages::DecodeError> {
                match command {
                    $(
                        $command => $crate::messages::macros::decode_payload(
                            Self::PROTOCOL,
                            command,
                            payload,
                        )
                        .map(Self::$variant),
                    )+
                    _ => Err($crate::messages::DecodeError::UnknownCommand {
                        protocol: Self::PROTOCOL,
                        command: command.to_owned(),
                    }),
                }
            }

            /// The payload as JSON; absent optional fields stay absent.
            pub fn payload(&self) -> serde_json::Value {
                match self {
                    $(Self::$variant(p) => $crate::messages::envelope::to_json_value(p),)+
                }
            }
        }
    };
}

pub(crate) use command_enum;

/// Decodes a payload into `T`, turning serde's error (prefixed with the path of
/// the offending field, e.g. `tgt.port`) into
/// [`DecodeError::BadPayload`](super::DecodeError::BadPayload).
pub(crate) fn decode_payload<T: serde::de::DeserializeOwned>(
    protocol: super::Protocol,
    command: &str,
    payload: serde_json::Value,
) -> Result<T, super::DecodeError> {
    serde_path_to_error::deserialize(payload).map_err(|e| {
        let path = e.path().to_string();
        let reason = if path == "." {
            e.inner().to_string()
        } else {
            format!("{path}: {}", e.inner())
        };
        super::DecodeError::BadPayload {
            protocol,
            command: command.to_owned(),
            reason,
        }
    })
}
