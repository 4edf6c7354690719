package node_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	trtcsdk "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/trtc/v20190722"

	"github.com/trtcd/trtcd/client"
	"github.com/trtcd/trtcd/internal/eventlog"
	"github.com/trtcd/trtcd/internal/history/historytest"
	tk "github.com/trtcd/trtcd/internal/testkit"
	"github.com/trtcd/trtcd/internal/testkit/await"
)

// TestHistoryPostgresTwoNodesKill9: two `trtcd serve` processes in one
// cluster (a throwaway redis-server) write their history to one PostgreSQL
// database. Node A is killed with SIGKILL right after a burst of activity,
// before its history consumer can have caught up; the other node's history
// group takes A's shards over, the sweeper removes A's members, and activity
// goes on on B. Every expected room session and member session is then in
// the database, closed, with its leave reason and client details: kill -9
// loses no row.
func TestHistoryPostgresTwoNodesKill9(t *testing.T) {
	if os.Getenv(historytest.PostgresEnv) == "" {
		t.Setenv(historytest.PostgresEnv, tk.StartPostgres(t)) // skips when PostgreSQL is not installed
	}
	dbURL := historytest.Postgres.New(t)
	srv := tk.StartRedis(t)
	bin := tk.BuildTrtcd(t)
	addrA, addrB := tk.FreeAddr(t), tk.FreeAddr(t)
	pA := tk.StartProcess(t, bin, addrA, tk.ClusterYAML(addrA, srv.URL(), "pg-a", fmt.Sprintf("history: %q", dbURL)))
	pB := tk.StartProcess(t, bin, addrB, tk.ClusterYAML(addrB, srv.URL(), "pg-b", fmt.Sprintf("history: %q", dbURL)))
	pA.WaitHealthy(t)
	pB.WaitHealthy(t)

	// Ten rooms, each with a member on A and one on B.
	const first, nrooms = 9001, 10
	var onA []*client.Conn
	want := map[string]string{} // "room user" → "reason ip device sdk"
	for i := 0; i < nrooms; i++ {
		r := uint64(first + i)
		a := joinAs(t, addrA, fmt.Sprintf("a%d", r), r, "Android 14", "TRTC-Android 11.8")
		onA = append(onA, a)
		b := joinAs(t, addrB, fmt.Sprintf("b%d", r), r, "iOS 17", "TRTC-iOS 11.7")
		await.Expect(t, await.Next(t, a), "user_entered", fmt.Sprintf("b%d", r), "")
		want[fmt.Sprintf("%d a%d", r, r)] = "timeout 127.0.0.1 Android 14 TRTC-Android 11.8" // swept after the kill
		if i%2 == 0 {
			b.Leave(context.Background())
			want[fmt.Sprintf("%d b%d", r, r)] = "left 127.0.0.1 iOS 17 TRTC-iOS 11.7"
		} else {
			want[fmt.Sprintf("%d b%d", r, r)] = "removed 127.0.0.1 iOS 17 TRTC-iOS 11.7" // removed after the kill
		}
	}
	// Wait for the last leave to reach A's clients, not for the history.
	await.Expect(t, await.Next(t, onA[nrooms-2]), "user_left", fmt.Sprintf("b%d", first+nrooms-2), "left")
	pA.Kill9()

	// Activity on B meanwhile: removals, a dismissal, a room of its own.
	sdk := tk.SDK(t, addrB, tk.AcmeID, tk.AcmeKey, tk.Modes[0])
	for i := 1; i < nrooms; i += 2 {
		r := uint64(first + i)
		if _, err := sdk.RemoveUser(removeReq(r, fmt.Sprintf("b%d", r))); err != nil {
			t.Fatalf("RemoveUser b%d: %v", r, err)
		}
	}
	d1 := tk.Join(t, addrB, tk.App, tk.AppKey, "d1", 9200, "")
	tk.Join(t, addrB, tk.App, tk.AppKey, "d2", 9200, "")
	await.Expect(t, await.Next(t, d1), "user_entered", "d2", "")
	dreq := trtcsdk.NewDismissRoomRequest()
	dreq.SdkAppId, dreq.RoomId = tk.U64(tk.App), tk.U64(9200)
	if _, err := sdk.DismissRoom(dreq); err != nil {
		t.Fatalf("DismissRoom: %v", err)
	}
	c := joinAs(t, addrB, "c", 9100, "Linux", "trtcd-go")
	c.Leave(context.Background())
	want["9200 d1"], want["9200 d2"] = "dismissed 127.0.0.1  ", "dismissed 127.0.0.1  "
	want["9100 c"] = "left 127.0.0.1 Linux trtcd-go"
	wantRooms := map[string]string{"9100": "c empty", "9200": "d1 dismissed"}
	for i := 0; i < nrooms; i++ {
		wantRooms[fmt.Sprint(first+i)] = fmt.Sprintf("a%d empty", first+i)
	}

	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	bound := eventlog.Options{}.TakeoverBound() + 10*time.Second + logWait // takeover, sweep (TTL and heartbeat), writes
	deadline := time.Now().Add(bound)
	for {
		gotMembers, gotRooms, err := pgHistory(db)
		if err == nil && fmt.Sprint(gotMembers) == fmt.Sprint(want) && fmt.Sprint(gotRooms) == fmt.Sprint(wantRooms) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("history after kill -9 of node A (within %v; err %v):\nmember sessions\n%s\nwant\n%s\nroom sessions %v\nwant %v\nnode B: %s",
				bound, err, lines(gotMembers), lines(want), gotRooms, wantRooms, pB.Stderr())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// pgHistory reads the closed member sessions ("room user" → "reason ip
// device sdk") and room sessions ("room" → "creator close_reason"); an open
// one is reported as "open" so that it never matches.
func pgHistory(db *sql.DB) (map[string]string, map[string]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	members, roomsOut := map[string]string{}, map[string]string{}
	rows, err := db.QueryContext(ctx, `SELECT room_text, user_id, leave_ms IS NOT NULL, leave_reason, client_ip, device, sdk_version FROM member_sessions`)
	if err != nil {
		return nil, nil, err
	}
	for rows.Next() {
		var room, user, reason, ip, device, sdk string
		var closed bool
		if err := rows.Scan(&room, &user, &closed, &reason, &ip, &device, &sdk); err != nil {
			rows.Close()
			return nil, nil, err
		}
		k := room + " " + user
		if _, dup := members[k]; dup {
			return nil, nil, fmt.Errorf("two stays of %s", k)
		}
		if !closed {
			reason = "open"
		}
		members[k] = strings.Join([]string{reason, ip, device, sdk}, " ")
	}
	rows.Close()
	rows, err = db.QueryContext(ctx, `SELECT room_text, creator, destroyed_ms IS NOT NULL, close_reason FROM room_sessions`)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var room, creator, reason string
		var closed bool
		if err := rows.Scan(&room, &creator, &closed, &reason); err != nil {
			return nil, nil, err
		}
		if _, dup := roomsOut[room]; dup {
			return nil, nil, fmt.Errorf("two sessions of room %s", room)
		}
		if !closed {
			reason = "open"
		}
		roomsOut[room] = creator + " " + reason
	}
	return members, roomsOut, rows.Err()
}

func lines(m map[string]string) string {
	var out []string
	for k, v := range m {
		out = append(out, k+": "+v)
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}
