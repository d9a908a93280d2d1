//! The integration tests, in one binary (one build, one link): the built
//! `mxlookup` run as a process against servers each test starts on
//! loopback, in-process and real (Knot DNS, Unbound), and the library's
//! public API. Nothing here talks to anything but 127.0.0.0/8 and ::1.
#![allow(unreachable_pub)]

mod support;

mod audit;
mod cli;
mod dane;
mod encrypted;
mod faults;
mod hostile;
mod html;
mod knot;
mod layers;
mod lifecycle;
mod mta_sts;
mod readme;
mod report;
mod resilience;
mod scale;
mod unknown;
