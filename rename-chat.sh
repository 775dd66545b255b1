#!/usr/bin/env bash
# Issue 26, "one word per thing": the mechanical part of renaming "session" to "chat" where it
# names a chat. Deterministic and idempotent (it only matches the old names), so it can be
# re-run after merging branches that still use them. Run from the repository root:
#     bash rename-chat.sh
#
# What it renames: an explicit list of whole-word identifiers.
# - Rust (*.rs): in code and comments; inside string literals only `{name}`/`{name:…}` format
#   arguments, and a literal that is exactly a renamed command name ("create_session"), so SQL
#   keeps the schema's names (table `sessions`, column `session_id`, indexes `*_by_session`).
# - TypeScript and Svelte (ui/src, not the generated bindings.ts): whole words, never next to
#   a `-` (data-testid values such as `session-item` stay).
# - The capability file's permission names of the renamed commands; the permission files
#   Tauri generated for the old command names are deleted (the build writes the new ones).
# Not renamed, because they mean something else or are a stored format:
# - the approval grant "for this session" (AllowSession, grant_session, session_grants,
#   `session` maps and arguments in approvals/ and chats/call.rs): a run of the app;
# - the WebDriver `Session` in tests, the D-Bus session bus (start_session_bus);
# - the SQLite schema (table `sessions`, columns `session_id`, `forked_from_session`, table
#   `session_changes`, index names): existing databases;
# - the JSON field names `session` and `session_id` in export files and `--json` output
#   (kept by `#[serde(rename)]` on the renamed Rust fields);
# - the plain word `session` as a field or local variable name; only the chat service's method
#   `session(id)` becomes `summary(id)`.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"

# old=new pairs for Rust.
RUST_PAIRS='
SessionId=ChatId
SessionSummary=ChatSummary
SessionHistory=ChatHistory
SessionParams=ChatParams
SessionsCmd=ChatsCmd
SetSessionParams=SetChatParams
Sessions=Chats
session_id=chat_id
create_session=create_chat
get_session=get_chat
rename_session=rename_chat
rename_session_seen=rename_chat_seen
delete_session=delete_chat
delete_session_seen=delete_chat_seen
set_session_params=set_chat_params
list_sessions=recent_chats
session_row=chat_row
session_columns=chat_columns
forget_session=forget_chat
insert_session=insert_chat_row
data_dir_with_sessions=data_dir_with_chats
long_session=long_chat
print_long_session=print_long_chat
sessions_list_pages_with_limit_and_offset_and_no_silent_cap=chats_list_pages_with_limit_and_offset_and_no_silent_cap
deleting_a_streaming_session_stops_it_first=deleting_a_streaming_chat_stops_it_first
'
# Tauri commands renamed (their names are also strings: build.rs, the capability file).
COMMANDS='create_session get_session rename_session delete_session set_session_params'

# old=new pairs for TypeScript and Svelte.
TS_PAIRS='
SessionId=ChatId
SessionSummary=ChatSummary
SessionHistory=ChatHistory
SessionParams=ChatParams
SessionView=ChatView
sessionId=chatId
refreshSessions=refreshChats
currentSession=currentChat
getSession=getChat
setSessionParams=setChatParams
renameSession=renameChat
deleteSession=deleteChat
createSession=createChat
moreSessions=moreChats
sessions=chats
'

export RUST_PAIRS TS_PAIRS COMMANDS

# Rust: mask comments (kept, renamed as code) and string literals (only format arguments and
# exact command names renamed), rename whole words in the rest.
git ls-files -z -- '*.rs' | xargs -0 perl -0777 -i -pe '
  BEGIN {
    for (split /\n/, $ENV{RUST_PAIRS}) { next unless /=/; my ($o, $n) = split /=/; $R{$o} = $n; }
    $W = join "|", sort { length($b) <=> length($a) } keys %R;
    %C = map { $_ => $R{$_} } split " ", $ENV{COMMANDS};
    $CW = join "|", keys %C;
  }
  my @s;
  s{(//[^\n]*|/\*.*?\*/)|(r(\#*)".*?"\3|b?"(?:[^"\\]|\\.)*"|\x27(?:[^\x27\\]|\\.)\x27)}{
    defined $1 ? $1 : do { push @s, $2; "\x00" . $#s . "\x00" }
  }gse;
  s{(?<![\w])($W)(?![\w])}{$R{$1}}g;
  s{\.session\(}{.summary(}g;
  s{\bfn session\(}{fn summary(}g;
  s{\x00(\d+)\x00}{
    my $t = $s[$1];
    $t =~ s!\x7b($W)([:\x7d])!"\x7b" . $R{$1} . $2!ge;
    $t =~ s!^"($CW)"$!"\"" . $C{$1} . "\""!e;
    $t
  }ge;
'

# The protocol's renamed fields keep their JSON names: export files, `--json` output and the
# window's events read the same as before (no attribute is added twice on a re-run).
perl -0777 -pi -e '
  s/^[ \t]*#\[serde\(rename = "session_id"\)\]\n//mg;
  s/^([ \t]*)(pub chat_id: ChatId,)/$1#[serde(rename = "session_id")]\n$1$2/mg;
' src-tauri/crates/protocol/src/*.rs

# TypeScript and Svelte.
git ls-files -z -- 'ui/src/*.ts' 'ui/src/*.svelte' ':!ui/src/bindings.ts' | xargs -0 perl -0777 -i -pe '
  BEGIN {
    for (split /\n/, $ENV{TS_PAIRS}) { next unless /=/; my ($o, $n) = split /=/; $R{$o} = $n; }
    $W = join "|", sort { length($b) <=> length($a) } keys %R;
  }
  s{(?<![A-Za-z0-9_\$-])($W)(?![A-Za-z0-9\$-])}{$R{$1}}g;
'

# The capability file and the generated permission files of the renamed commands.
for c in $COMMANDS; do
  old=${c//_/-}
  new=$(grep -E "^$c=" <<<"$RUST_PAIRS" | cut -d= -f2)
  perl -pi -e "s/\"(allow|deny)-$old\"/\"\$1-${new//_/-}\"/g" src-tauri/capabilities/*.json
  if [ -e "permissions/autogenerated/$c.toml" ]; then git rm -q "permissions/autogenerated/$c.toml"; fi
done
