use super::*;

const TCP: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 5151 1 0000000000000000 20 4 30 10 -1
   2: 00000000:1F91 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 6262 1 0000000000000000 100 0 0 10 0
   3: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 0 1 0000000000000000 100 0 0 10 0
   4: garbage
   5: 0100007F:ZZZZ 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 7373 1
";

const TCP6: &str = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 8484 1 0000000000000000 100 0 0 10 0
";

#[test]
fn listening_sockets_are_read_by_port_and_state() {
    let cases: &[(&str, u16, &[u64])] = &[
        // Port 8080 listening; the established connection and the inode 0 row are not.
        (TCP, 8080, &[4242]),
        (TCP, 8081, &[6262]),
        (TCP, 9999, &[]),
        (TCP6, 8080, &[8484]),
        ("", 8080, &[]),
        ("header only\n", 8080, &[]),
    ];
    for (table, port, want) in cases {
        let got = listening_inodes(table, *port);
        let want: HashSet<u64> = want.iter().copied().collect();
        assert_eq!(got, want, "port {port}");
    }
}

#[test]
fn a_process_group_is_read_past_any_name() {
    let cases: &[(&str, Option<u32>)] = &[
        ("1234 (llama-server) S 1 1234 1234 0 -1", Some(1234)),
        ("1234 (a b) c) R 7 99 99 0", Some(99)),
        ("1234 ((x)) S 1 42 42", Some(42)),
        ("1234 (no end S 1 42 42", None),
        ("1234 (x) S 1", None),
        ("", None),
    ];
    for (stat, want) in cases {
        assert_eq!(stat_group(stat), *want, "{stat:?}");
    }
}

/// A program leading a process group of its own (as the engine does), listening on loopback
/// when `listen`; the port it listens on.
#[cfg(target_os = "linux")]
fn leader(listen: bool) -> (std::process::Child, u16) {
    use std::io::BufRead;
    use std::os::unix::process::CommandExt;
    let code = if listen {
        "import socket,time; s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(); print(s.getsockname()[1], flush=True); time.sleep(60)"
    } else {
        "import time; print(0, flush=True); time.sleep(60)"
    };
    let mut child = std::process::Command::new("python3")
        .args(["-c", code])
        .process_group(0)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    (child, line.trim().parse().unwrap())
}

#[cfg(target_os = "linux")]
#[test]
fn a_listener_is_found_in_its_own_group_only() {
    let (mut engine, port) = leader(true);
    let (mut other, _) = leader(false);
    let (ours, theirs) = (engine.id(), other.id());
    let seen = (group_listens(ours, port), group_listens(theirs, port));
    for c in [&mut engine, &mut other] {
        let _ = c.kill();
        let _ = c.wait();
    }
    assert_eq!(seen, (Some(true), Some(false)));
    // Nobody listens there any more: nothing to tell (the wrong-key check answers).
    assert_eq!(group_listens(ours, port), None);
    // A leader that is gone: its sockets cannot be read, so the question stays open.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    assert_eq!(group_listens(theirs, l.local_addr().unwrap().port()), None);
}

/// A server on loopback that answers every request with `status`.
async fn answering(status: u16) -> u16 {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut s, _)) = l.accept().await {
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf).await;
            let reply = format!(
                "HTTP/1.1 {status} X\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{{}}"
            );
            let _ = s.write_all(reply.as_bytes()).await;
        }
    });
    port
}

#[tokio::test]
async fn a_server_that_takes_any_key_is_not_the_engine() {
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    for (status, genuine) in [(401, true), (200, false), (403, false), (500, false)] {
        let port = answering(status).await;
        assert_eq!(
            refuses_wrong_key(&client, port).await,
            Ok(genuine),
            "{status}"
        );
    }
    // Nothing there: an error, not a pass.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port();
    drop(free);
    assert!(refuses_wrong_key(&client, port).await.is_err());
}
