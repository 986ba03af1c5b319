//! Protocol peers for dhis2gw's notification tests and benchmark, each on a local port:
//! [`smtp::SmtpSink`] (plain, STARTTLS and implicit TLS with a certificate made at start),
//! [`telegram::FakeTelegram`] (the Bot API's sendMessage, with scripted 429, 403 and 5xx answers,
//! stamped by [`clock::VirtualClock`]) and [`sms::FakeSmsGateway`].

pub mod clock;
pub mod sms;
pub mod smtp;
pub mod telegram;
