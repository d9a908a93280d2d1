//! The exit status, in one place: what each code means and how a run's
//! results map to one.

use mxlookup::pipeline::Finish;
use mxlookup::report::Counts;

/// Every domain got a definite answer (`ok`, `null_mx`, `no_mx`, `nxdomain`).
pub(super) const SUCCESS: u8 = 0;
/// At least one domain did not (`servfail`, `refused`, `timeout`, `error`,
/// `invalid`); with `--require-mx`, also any domain that is not `ok`.
pub(super) const FAILURES: u8 = 1;
/// The run could not be done: bad flags, unreadable input, no domains, no
/// resolver configuration, too low a file limit.
pub(super) const FATAL: u8 = 2;
/// Nothing failed, but something changed since `--baseline`: a CI job can
/// tell "changed" from "broken".
pub(super) const DRIFT: u8 = 3;
/// Interrupted by SIGHUP (the terminal went away): what had settled was
/// written out.
pub(super) const HANGUP: u8 = 129;
/// Interrupted by SIGINT (Ctrl-C): what had settled was written out.
pub(super) const INTERRUPTED: u8 = 130;
/// Interrupted by SIGTERM (what Kubernetes, CI runners and `timeout`
/// send): what had settled was written out.
pub(super) const TERMINATED: u8 = 143;

/// The status for an interruption by signal `number` (128 + the number,
/// the shell's convention).
pub(super) fn for_signal(number: i32) -> u8 {
    match number {
        1 => HANGUP,
        15 => TERMINATED,
        _ => INTERRUPTED,
    }
}

/// The exit status for a run that got as far as looking things up;
/// `signal` is the first signal that interrupted it (0 for none).
pub(super) fn for_run(counts: &Counts, require_mx: bool, finish: Finish, signal: i32) -> u8 {
    match finish {
        Finish::Interrupted => for_signal(signal),
        // The reader closed the pipe: stop quietly, as `| head` expects.
        Finish::Abandoned => SUCCESS,
        Finish::Complete => {
            let not_ok = counts.total() - counts.get(mxlookup::Status::Ok);
            if counts.failures() > 0 || (require_mx && not_ok > 0) || counts.error_problems() > 0 {
                FAILURES
            } else if counts.changed > 0 {
                DRIFT
            } else {
                SUCCESS
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mxlookup::Status;

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
        assert_eq!(for_run(&definite, false, Finish::Complete, 0), SUCCESS);
        assert_eq!(for_run(&definite, true, Finish::Complete, 0), FAILURES);
        assert_eq!(
            for_run(&counts(&[Status::Ok]), true, Finish::Complete, 0),
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
                for_run(&counts(&[Status::Ok, bad]), false, Finish::Complete, 0),
                FAILURES,
                "{bad}"
            );
        }
        assert_eq!(
            for_run(&definite, false, Finish::Interrupted, 2),
            INTERRUPTED
        );
        assert_eq!(
            for_run(&definite, false, Finish::Interrupted, 15),
            TERMINATED
        );
        assert_eq!(for_run(&definite, false, Finish::Interrupted, 1), HANGUP);
        assert_eq!(
            for_run(&counts(&[Status::Timeout]), false, Finish::Abandoned, 0),
            SUCCESS
        );
    }
}
