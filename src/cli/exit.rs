//! The exit status, in one place: what each code means and how a run's
//! results map to one.

use mxlookup::outcome::{Code, Severity};
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
/// `report`: shards of the job are missing; what was given was written.
pub(super) const MISSING_SHARDS: u8 = 4;
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

/// Which audit findings fail the run (`--fail-on`). A failed lookup and a
/// finding that is unknown always do: what could not be checked never
/// passes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) enum FailOn {
    /// Errors (the default).
    #[default]
    Errors,
    /// Warnings and errors.
    Warnings,
    /// Only these codes.
    Codes(Vec<Code>),
}

impl FailOn {
    /// `error`, `warning`, or a comma-separated list of codes.
    pub(crate) fn parse(s: &str) -> Result<FailOn, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "error" | "errors" => return Ok(FailOn::Errors),
            "warning" | "warnings" => return Ok(FailOn::Warnings),
            _ => {}
        }
        let mut codes = Vec::new();
        for name in s.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let code = Code::ALL
                .iter()
                .find(|c| c.as_str().eq_ignore_ascii_case(name))
                .ok_or_else(|| {
                    format!(
                        "'{}' is neither error, warning nor a finding's code (see mxlookup man, FINDINGS)",
                        mxlookup::text::escape_text(name)
                    )
                })?;
            codes.push(*code);
        }
        if codes.is_empty() {
            return Err("give error, warning, or a list of codes".into());
        }
        Ok(FailOn::Codes(codes))
    }

    /// Whether the findings counted fail the run.
    fn fails(&self, counts: &Counts) -> bool {
        let any = |pick: &dyn Fn(Code) -> bool| {
            Code::ALL.iter().any(|c| pick(*c) && counts.problem(*c) > 0)
        };
        let unknown = any(&|c| c.severity() == Severity::Unknown);
        unknown
            || match self {
                FailOn::Errors => any(&|c| c.severity() == Severity::Error),
                FailOn::Warnings => any(&|_| true),
                FailOn::Codes(codes) => any(&|c| codes.contains(&c)),
            }
    }
}

/// The exit status for a run that got as far as looking things up;
/// `signal` is the first signal that interrupted it (0 for none).
pub(super) fn for_run(
    counts: &Counts,
    require_mx: bool,
    fail_on: &FailOn,
    finish: Finish,
    signal: i32,
) -> u8 {
    match finish {
        Finish::Interrupted => for_signal(signal),
        // The reader closed the pipe: stop quietly, as `| head` expects.
        Finish::Abandoned => SUCCESS,
        Finish::Complete => {
            let not_ok = counts.total() - counts.get(mxlookup::Status::Ok);
            if counts.failures() > 0 || (require_mx && not_ok > 0) || fail_on.fails(counts) {
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
        assert_eq!(
            for_run(&definite, false, &FailOn::Errors, Finish::Complete, 0),
            SUCCESS
        );
        assert_eq!(
            for_run(&definite, true, &FailOn::Errors, Finish::Complete, 0),
            FAILURES
        );
        assert_eq!(
            for_run(
                &counts(&[Status::Ok]),
                true,
                &FailOn::Errors,
                Finish::Complete,
                0
            ),
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
                for_run(
                    &counts(&[Status::Ok, bad]),
                    false,
                    &FailOn::Errors,
                    Finish::Complete,
                    0
                ),
                FAILURES,
                "{bad}"
            );
        }
        assert_eq!(
            for_run(&definite, false, &FailOn::Errors, Finish::Interrupted, 2),
            INTERRUPTED
        );
        assert_eq!(
            for_run(&definite, false, &FailOn::Errors, Finish::Interrupted, 15),
            TERMINATED
        );
        assert_eq!(
            for_run(&definite, false, &FailOn::Errors, Finish::Interrupted, 1),
            HANGUP
        );
        assert_eq!(
            for_run(
                &counts(&[Status::Timeout]),
                false,
                &FailOn::Errors,
                Finish::Abandoned,
                0
            ),
            SUCCESS
        );
    }

    #[test]
    fn fail_on_chooses_which_findings_fail_and_unknown_always_does() {
        let mut c = counts(&[Status::Ok, Status::Ok]);
        c.problem_domains(&[Code::SpecialAddress, Code::CnameTarget]);
        let run = |c: &Counts, f: &FailOn| for_run(c, false, f, Finish::Complete, 0);
        assert_eq!(run(&c, &FailOn::Errors), SUCCESS);
        assert_eq!(run(&c, &FailOn::Warnings), FAILURES);
        assert_eq!(
            run(&c, &FailOn::parse("special_address").unwrap()),
            FAILURES
        );
        assert_eq!(
            run(&c, &FailOn::parse("no_route,implicit_mx").unwrap()),
            SUCCESS
        );
        c.problem_domains(&[Code::NoRoute]);
        assert_eq!(run(&c, &FailOn::Errors), FAILURES);
        assert_eq!(run(&c, &FailOn::parse("cname_target").unwrap()), FAILURES);
        assert_eq!(run(&c, &FailOn::parse("dane_partial").unwrap()), SUCCESS);
        let mut u = counts(&[Status::Ok]);
        u.problem_domains(&[Code::UnresolvedExchange]);
        assert_eq!(
            run(&u, &FailOn::parse("special_address").unwrap()),
            FAILURES
        );
        assert!(
            FailOn::parse("nonsense")
                .unwrap_err()
                .contains("'nonsense'")
        );
        assert_eq!(FailOn::parse("WARNING").unwrap(), FailOn::Warnings);
    }
}
