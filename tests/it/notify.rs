//! Notifications against real protocol peers (`crates/notify-fakes`): the SMTP sink, the fake
//! Telegram Bot API and the fake SMS gateway, with the delivery task run by the test.

mod env;
mod mime;

mod api;
mod cli;
mod delivery;
mod directory;
mod links;
mod outages;
mod reload;
mod secrets;
mod telegram_limits;
