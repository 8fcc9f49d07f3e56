//! End-to-end tests of the api worker (see `dream_e2e` for how they run).

mod activity;
mod bad_input;
mod billing;
mod connect;
mod contract;
mod dashboard_backend;
mod deliveries;
mod demo;
mod end_user;
mod end_user_billing;
mod exactness;
mod headers;
mod isolation;
mod keys;
mod metering;
mod one_writer;
mod registration;
mod upstream;
mod webhooks;
