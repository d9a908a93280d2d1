//! The exit status, in one place: what each code means and how a run's
//! results map to one.

use crate::engine::Finish;
use crate::outcome::Status;
use crate::report::Counts;

/// Every domain got a definite answer (`ok`, `null_mx`, `no_mx`, `nxdomain`).
pub const SUCCESS: u8 = 0;
/// At least one domain did not (`servfail`, `refused`, `timeout`, `error`,
/// `invalid`); with `--require-mx`, also any domain that is not `ok`.
pub const FAILURES: u8 = 1;
/// The run could not be done: bad flags, unreadable input, no domains, no
/// resolver configuration, too low a file limit.
pub const FATAL: u8 = 2;
/// Interrupted (SIGINT): what had settled was written out.
pub const INTERRUPTED: u8 = 130;

/// The exit status for a run that got as far as looking things up.
pub fn for_run(counts: &Counts, require_mx: bool, finish: Finish) -> u8 {
    match finish {
        Finish::Interrupted => INTERRUPTED,
        // The reader closed the pipe: stop quietly, as `| head` expects.
        Finish::Abandoned => SUCCESS,
        Finish::Complete => {
            let not_ok = counts.total() - counts.get(Status::Ok);
            if counts.failures() > 0 || (require_mx && not_ok > 0) {
                FAILURES
            } else {
                SUCCESS
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(statuses: &[Status]) -> Counts {
        let mut c = Counts::default();
        for s in statuses {
            c.add(*s);
        }
        c
    }

    #[test]
    fn definite_answers_succeed_and_anything_else_fails() {
        let definite = counts(&[Status::Ok, Status::NullMx, Status::NoMx, Status::Nxdomain]);
        assert_eq!(for_run(&definite, false, Finish::Complete), SUCCESS);
        assert_eq!(for_run(&definite, true, Finish::Complete), FAILURES);
        assert_eq!(
            for_run(&counts(&[Status::Ok]), true, Finish::Complete),
            SUCCESS
        );
        for bad in [
            Status::Servfail,
            Status::Refused,
            Status::Timeout,
            Status::Error,
            Status::Invalid,
        ] {
            assert_eq!(
                for_run(&counts(&[Status::Ok, bad]), false, Finish::Complete),
                FAILURES,
                "{bad}"
            );
        }
        assert_eq!(for_run(&definite, false, Finish::Interrupted), INTERRUPTED);
        assert_eq!(
            for_run(&counts(&[Status::Timeout]), false, Finish::Abandoned),
            SUCCESS
        );
    }
}
