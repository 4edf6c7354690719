package rooms

import "context"

// Rooms lists the app's rooms from the shards' maps.
func (m *Memory) Rooms(_ context.Context, app uint64, max int) ([]RoomInfo, bool, error) {
	var out []RoomInfo
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		for k, r := range s.rooms {
			if k.App != app || len(r.members) == 0 {
				continue
			}
			if len(out) == max {
				s.mu.Unlock()
				return out, true, nil
			}
			out = append(out, RoomInfo{Key: k, Members: len(r.members), Anchors: len(r.anchors)})
		}
		s.mu.Unlock()
	}
	return out, false, nil
}
