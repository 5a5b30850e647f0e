// Package kongadmin is the kong_admin pull input: it polls a Kong Gateway
// Enterprise Admin API for its audit trail, turns each record into an
// event with the kong adapter, and stores the events in the spool like a
// pushed input's. A cursor per endpoint, saved only after the events are
// durable, makes a restart neither skip nor repeat records.
//
// # Wire format
//
// Kong docs: "Audit Logging in Kong Gateway" and the Admin API reference,
// Audit Logs (seed 001); DESIGN.md "Sources as they really arrive". Kong
// keeps audit records in its database, each expiring after its ttl, and
// serves them with
//
//	GET {url}[/{workspace}]/audit/requests?size=N&after=S[&offset=T]
//	GET {url}[/{workspace}]/audit/objects?size=N&after=S[&offset=T]
//	Kong-Admin-Token: <admin_token>          (only when one is configured)
//
//	200 {"data":[…records, newest first…],"offset":"T","next":"/audit/requests?offset=T&size=N"}
//	200 {"data":[…],"next":null}            (the last page; data may be {} when empty)
//
// size is 1 to 1000 (Kong's default 100); after (inclusive) and before
// (exclusive) take epoch seconds or YYYY-MM-DDTHH:MM:SSZ and nothing else
// (a fraction or an offset is a 400), and filter on request_timestamp, a
// whole second. The poller sends after as epoch seconds and never before.
// The records are those of package kong (request records carry
// request_id, object records id; both carry request_timestamp on 3.x).
//
// Kong writes audit records asynchronously, after the response: a record
// can appear after a poll already read its second, and several hundred
// records can share one second. Newest-first pages shift while Kong
// inserts, so one record can come on two pages of one poll.
//
// # A poll
//
// Each interval the poller runs a pass per endpoint:
//
//  1. Page from after = max(floor, since − lookback) (omitted while it is
//     0), following next until it is null. The offset token (the page's
//     offset, else the offset in next) is sent with the poller's own
//     size and after, so a next link that drops the filters or the base
//     path still works; a next without an offset is followed as given,
//     resolved against url, never to another host.
//  2. Keep each record whose request_timestamp is at or after both after
//     and the floor, whose id is not in the cursor's seen set and not
//     already kept in this pass. A record without request_timestamp (an
//     object record of a release before 3.x) is placed at the newest
//     second delivered, so it is deduplicated for as long as that second
//     is read again; use Kong 3.x.
//  3. Sort the kept records oldest first (within a second, in Kong's write
//     order), convert them with the kong adapter, and append them to the
//     sink in chunks of at most 1000 events. After each Append returns
//     nil: add the chunk's ids to seen, raise since to its newest second,
//     forget the ids older than since − lookback, and save the cursor.
//
// A pass holds at most about 100 000 records (twice that before trimming,
// plus one second's worth): past that it keeps only the oldest whole
// seconds and the next pass, which starts at once, fetches the rest. A
// backlog (start_from = "earliest", a long outage) is so worked off in
// bounded memory, at the price of reading the newer pages again.
//
// Kong's answers are read by the shared HTTP client up to 64 MiB a page; a
// larger page stops the endpoint with an error that says to lower
// page_size.
//
// # Cursor file
//
// StateDir (data_dir/inputs/<name>/) holds one JSON file per endpoint,
// cursor-requests.json and cursor-objects.json, replaced atomically
// (write cursor-….json.tmp, fsync, rename, fsync the directory):
//
//	{"version":1,"endpoint":"requests","url":"https://kong:8444","workspace":"team-a",
//	 "floor":1750204800,"since":1750209999,
//	 "seen":{"1750209969":["OjOcUBvt6q6X…","…"],…,"1750209999":["…"]}}
//
// floor is the first second to deliver (start_from; 0 for earliest),
// since the newest request_timestamp delivered (0 before the first), seen
// the ids delivered in each second from since − lookback on: the seconds
// the next poll reads again. The file is written when the poller is first
// built (so "now" means the first start) and after every stored chunk.
// A damaged file stops the input at start with the file's name; deleting
// it starts that endpoint over from start_from. A cursor made for another
// url or workspace is used with a warning.
//
// # Guarantee
//
// Every record Kong serves is stored exactly once, across restarts, given
// that (a) it becomes visible in the Admin API before a record more than
// lookback seconds newer has been delivered (i.e. Kong's asynchronous
// write lags by less than lookback, and the Kong nodes' clocks agree to
// within lookback), and (b) it has not expired (ttl) before the poller
// reads it. Why:
//
//   - No gap: a record at second t is filtered out by Kong only if
//     t < after = since − lookback; by (a) it was then already visible
//     when since was still within lookback of t, i.e. in a pass that read
//     its second. A pass reads until next is null, so every record
//     visible when its first page was served, and at or after after, is
//     on some page (inserts shift pages towards the end; they never push
//     a record past the last page). Records the pass held back (memory
//     bound) are at or after a cutoff above since and come in the next
//     pass.
//   - No repeat: a record is stored only if its id is not in seen and not
//     already kept in the pass. seen holds every id stored at a second at
//     or after since − lookback, the lowest second any later poll asks
//     for; ids are added only after Append returned nil and saved before
//     the next chunk is stored.
//   - Restarts: the cursor on disk always describes exactly the chunks
//     the sink made durable. A stop between pages or before an Append
//     loses only the pass's memory; one after an Append finds its chunk in
//     seen. The one window left, a crash between a successful Append and
//     the cursor's rename, re-stores that chunk; the journal's dedup
//     window (dedup_window) drops those duplicates.
//
// A record later than lookback is skipped; raise lookback if Kong's
// database is slow to write. start_from = "now" uses the relay's clock.
// A Kong that ignores after (releases without the filter) is still
// correct: records before after are dropped, but every poll pages through
// all of them.
//
// # Status and failures
//
// Every request attempt is reported through PullSettings.Observe: the
// input's /status entry (inputs.<name>) turns "inactive" at the first
// failed attempt (no answer, or a status of 300 or more, or a 200 that is
// not an audit page) with last_attempt_at and last_response_code, and
// "active" at the next success. Connection errors, 429 and 5xx are
// retried inside one request with [inputs.NAME.retry] (default 4
// retries, 1–30 s); when the retries run out the pass ends and the next
// one, an interval later, starts again from the saved cursor, so the
// input catches up once the API answers. The first failure of a streak is
// logged as a warning (the Admin API failing, or the spool refusing the
// events), the recovery at info.
//
// A 401 or 403 (wrong or missing admin_token, or an RBAC role without
// read access to /audit) is logged once as an error naming the fix, never
// with the token, and is not retried: the poller then asks only every
// max(interval, retry.wait_max) until Kong accepts the token.
//
// # Configuration
//
//	[inputs.kong_audit]
//	adapter = "kong_admin"
//	url = "https://kong-admin.example.com:8444"   # https:// unless allow_http = true
//	admin_token_file = "/run/secrets/kong-admin-token"   # or admin_token; none without RBAC
//	workspace = "team-a"              # default: none (/audit/…)
//	interval = "10s"
//	endpoints = ["requests", "objects"]
//	page_size = 1000                  # 1 to 1000
//	start_from = "now"                # "earliest", or "2025-06-18T00:00:00Z", or 1750204800
//	lookback = "30s"
//	timeout = "10s"
//	tls.ca_file = "/etc/ssl/kong-admin-ca.pem"
//
//	[inputs.kong_audit.retry]
//	max_retries = 4
//	wait_min = "1s"
//	wait_max = "30s"
//
// include_raw and severity are the common input keys; path_patterns is
// passed to the kong adapter. Events carry source.kind "kong_admin" and
// are otherwise what the kong adapter makes of the same records.
package kongadmin
