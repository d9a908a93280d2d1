//! DNS over TLS and over HTTPS, against Unbound serving both with a
//! certificate the test makes, in front of Knot: the same answers as plain
//! DNS, one connection carrying many queries, and certificate failures that
//! say what is wrong. Needs `unbound` and `knotd` (`.ci/run` installs them).

use crate::support::*;
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// A zone with a few of every answer, and its truth.
fn zone() -> (String, Vec<String>) {
    let mut z = String::from(
        "$ORIGIN enc.test.\n$TTL 300\n@ IN SOA ns.enc.test. admin.enc.test. 1 3600 600 86400 60\n\
         @ IN NS ns.enc.test.\nns IN A 127.0.0.1\nnull IN MX 0 .\nnodata IN A 192.0.2.1\n",
    );
    let mut names = vec![
        "null.enc.test".to_string(),
        "nodata.enc.test".to_string(),
        "missing.enc.test".to_string(),
    ];
    for i in 0..200 {
        z.push_str(&format!(
            "d{i} IN MX {} mx1.p{}.example.\nd{i} IN MX 20 mx2.p{}.example.\n",
            i % 3 * 5,
            i % 7,
            i % 7
        ));
        names.push(format!("d{i}.enc.test"));
    }
    (z, names)
}

/// (status, mx) per domain, from an NDJSON run.
fn answers(out: &std::process::Output) -> BTreeMap<String, (String, Vec<(u64, String)>)> {
    let results = by_domain(&ndjson(out));
    results
        .keys()
        .map(|d| (d.clone(), (status(&results, d), mx_of(&results, d))))
        .collect()
}

struct World {
    _knot: Knot,
    unbound: Unbound,
    ca: TestCa,
    names: Vec<String>,
}

fn world() -> World {
    let (z, names) = zone();
    let knot = Knot::start(&[("enc.test.", z)]);
    let ca = TestCa::new();
    let unbound = Unbound::start_encrypted(&[("enc.test.", knot.addr)], &ca);
    World {
        _knot: knot,
        unbound,
        ca,
        names,
    }
}

fn lookup(server: &str, extra: &[&str], names: &[String]) -> std::process::Output {
    let mut flags = vec!["-n", server, "--format", "ndjson", "--timeout", "4s"];
    flags.extend_from_slice(extra);
    run_names(&flags, names)
}

#[test]
fn dot_and_doh_give_the_plain_answers_over_one_connection() {
    let w = world();
    let plain = lookup(&w.unbound.addr.to_string(), &[], &w.names);
    let truth = answers(&plain);
    assert_eq!(truth.len(), w.names.len());
    assert_eq!(truth["null.enc.test"].0, "null_mx");
    assert_eq!(truth["nodata.enc.test"].0, "no_mx");
    assert_eq!(truth["missing.enc.test"].0, "nxdomain");
    assert_eq!(
        truth["d1.enc.test"].1,
        vec![(5, "mx1.p1.example".into()), (20, "mx2.p1.example".into())]
    );

    for (scheme, upstream) in [
        ("tls", w.unbound.tls.unwrap()),
        ("https", w.unbound.https.unwrap()),
    ] {
        let relay = TcpCounter::start(upstream);
        let path = if scheme == "https" { "/dns-query" } else { "" };
        let server = format!("{scheme}://{}{path}", relay.addr);
        // Cold: the first lookup opens the connection.
        let out = lookup(&server, &["--ca-file", &w.ca.ca, "-c", "64"], &w.names);
        assert_eq!(answers(&out), truth, "{scheme}: {}", stderr(&out));
        assert_eq!(out.status.code(), Some(0), "{scheme}: {}", stderr(&out));
        let connections = relay.connections.load(Ordering::SeqCst);
        assert!(
            (1..=2).contains(&connections),
            "{scheme}: {} lookups took {connections} connections: queries must share one",
            w.names.len()
        );
        // The certificate's other name, given with --tls-name, and the
        // server given dig's way, with the type after the domain.
        let out = run(
            &[
                &format!("@{server}"),
                "--tls-name",
                "dns.test",
                "--ca-file",
                &w.ca.ca,
                "--format",
                "ndjson",
                "d5.enc.test",
                "MX",
            ],
            None,
        );
        assert_eq!(
            answers(&out)["d5.enc.test"],
            truth["d5.enc.test"],
            "{}",
            stderr(&out)
        );
    }
}

#[test]
fn certificate_failures_say_so_quickly_and_every_domain_settles() {
    let w = world();
    let names = &w.names[..20];
    let tls = format!("tls://{}", w.unbound.tls.unwrap());
    let https = format!("https://{}", w.unbound.https.unwrap());
    let plain_tls = format!("tls://{}", w.unbound.addr);
    let plain_https = format!("https://{}", w.unbound.addr);
    for (server, extra, why) in [
        // The built-in roots do not know the test's CA: say what to do.
        (tls.as_str(), vec![], "UnknownIssuer"),
        (
            https.as_str(),
            vec![],
            "give its certificate with --ca-file",
        ),
        // A port that speaks plain DNS, not TLS: said within a second or
        // so, not after the deadline.
        (
            plain_tls.as_str(),
            vec![],
            "does not seem to speak TLS on this port",
        ),
        (
            plain_https.as_str(),
            vec![],
            "does not seem to speak TLS on this port",
        ),
        // A name the certificate does not hold.
        (
            tls.as_str(),
            vec!["--ca-file", w.ca.ca.as_str(), "--tls-name", "other.test"],
            "not valid for name \"other.test\"",
        ),
    ] {
        let start = Instant::now();
        let out = lookup(server, &extra, names);
        let results = by_domain(&ndjson(&out));
        assert_eq!(results.len(), names.len(), "{server}: every domain settles");
        for r in results.values() {
            assert_eq!(r["status"], "error", "{server} {extra:?}: {r}");
            let msg = r["error"].as_str().unwrap();
            assert!(msg.contains(why), "{server} {extra:?}: {msg}");
        }
        assert_eq!(out.status.code(), Some(1));
        assert!(
            start.elapsed() < Duration::from_secs(4),
            "{server}: a bad certificate is not a timeout"
        );
    }
}

#[test]
fn encrypted_transports_are_refused_where_they_cannot_work() {
    let out = run(
        &["--engine", "wire", "-n", "tls://127.0.0.1", "example.test"],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("the wire engine speaks plain DNS"),
        "{}",
        stderr(&out)
    );
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.pem");
    std::fs::write(&bad, "not a certificate\n").unwrap();
    let out = run(
        &[
            "-n",
            "tls://127.0.0.1",
            "--ca-file",
            bad.to_str().unwrap(),
            "example.test",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no PEM certificate"),
        "{}",
        stderr(&out)
    );
    let out = run(&["-n", "tls://dns.example", "example.test"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--tls-name"), "{}", stderr(&out));
}

/// A hostile DNS-over-HTTPS server: what no real one sends. Every name
/// settles within its deadline as an error or a timeout, never `ok`, and
/// nothing is asked in plaintext instead.
#[test]
fn a_hostile_doh_server_never_gives_ok_and_every_name_settles_in_time() {
    use crate::support::doh::{DohReply, DohServer};
    use hickory_server::proto::op::ResponseCode;
    let ca = TestCa::new();
    let good = |q: &hickory_server::proto::op::Message| {
        let mut m = mx_response(q, &[(10, name("mx.good.example."))]);
        m.metadata.id = q.metadata.id;
        m.to_vec().unwrap()
    };
    let server = DohServer::start(&ca, move |q| {
        let dns = |body: Vec<u8>| DohReply::Http {
            status: 200,
            content_type: "application/dns-message",
            body,
            location: None,
        };
        match first_label(q).as_str() {
            "good" => dns(good(q)),
            "status500" => DohReply::Http {
                status: 500,
                content_type: "text/plain",
                body: b"oops".to_vec(),
                location: None,
            },
            "html" => DohReply::Http {
                status: 200,
                content_type: "text/html",
                body: good(q),
                location: None,
            },
            "otherq" => {
                let mut m = mx_response(q, &[(1, name("mx.attacker.example."))]);
                m.queries[0].set_name(name("elsewhere.example."));
                m.answers[0].name = name("elsewhere.example.");
                dns(m.to_vec().unwrap())
            }
            "otherid" => {
                let mut m = mx_response(q, &[(1, name("mx.attacker.example."))]);
                m.metadata.id = q.metadata.id.wrapping_add(7);
                dns(m.to_vec().unwrap())
            }
            "huge" => {
                let mut body = good(q);
                body.resize(10 << 20, 0);
                dns(body)
            }
            "redirect" => DohReply::Http {
                status: 302,
                content_type: "text/plain",
                body: Vec::new(),
                location: Some("http://127.0.0.1:9/dns-query".into()),
            },
            "redirects" => DohReply::Http {
                status: 307,
                content_type: "text/plain",
                body: Vec::new(),
                location: Some("https://127.0.0.1:9/dns-query".into()),
            },
            "stall" => DohReply::Stall,
            _ => dns(response(q, ResponseCode::ServFail).to_vec().unwrap()),
        }
    });
    // A UDP socket on the same address and port catches any plaintext
    // fallback: nothing may arrive there.
    let plain = std::net::UdpSocket::bind(server.addr).unwrap();
    plain.set_nonblocking(true).unwrap();
    let names: Vec<String> = [
        "good",
        "status500",
        "html",
        "otherq",
        "otherid",
        "huge",
        "redirect",
        "redirects",
        "stall",
    ]
    .iter()
    .map(|l| format!("{l}.doh.example"))
    .collect();
    let url = format!("https://{}/dns-query", server.addr);
    let mut args = vec![
        "-n",
        url.as_str(),
        "--ca-file",
        ca.ca.as_str(),
        "--timeout",
        "3s",
        "--format",
        "ndjson",
    ];
    args.extend(names.iter().map(String::as_str));
    let start = std::time::Instant::now();
    let out = run(&args, None);
    let took = start.elapsed();
    let results = by_domain(&ndjson(&out));
    assert_eq!(results.len(), names.len(), "{}", stderr(&out));
    assert_eq!(
        status(&results, "good.doh.example"),
        "ok",
        "{}",
        results["good.doh.example"]
    );
    for n in &names[1..] {
        let r = &results[n];
        let s = r["status"].as_str().unwrap();
        assert!(s == "error" || s == "timeout", "{n}: {r}");
        assert!(r["mx"].as_array().unwrap().is_empty(), "{n}: {r}");
        assert!(
            r["time_ms"].as_f64().unwrap() < 3600.0,
            "{n}: within the deadline: {r}"
        );
    }
    assert!(took < std::time::Duration::from_secs(10), "{took:?}");
    assert_eq!(out.status.code(), Some(1));
    let mut buf = [0u8; 512];
    assert!(
        plain.recv_from(&mut buf).is_err(),
        "a query went out in plaintext"
    );
}
