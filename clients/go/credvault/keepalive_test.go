package credvault

import (
	"testing"
	"time"

	"google.golang.org/grpc/keepalive"
)

func TestKeepaliveParams(t *testing.T) {
	for _, c := range []struct {
		options Options
		want    keepalive.ClientParameters
		ping    bool
	}{
		{Options{}, keepalive.ClientParameters{Time: 20 * time.Second, Timeout: 10 * time.Second}, true},
		{Options{KeepaliveTime: time.Minute, KeepaliveTimeout: time.Second},
			keepalive.ClientParameters{Time: time.Minute, Timeout: time.Second}, true},
		{Options{KeepaliveTime: -1}, keepalive.ClientParameters{Time: -1}, false},
	} {
		got, ping := keepaliveParams(c.options)
		if got != c.want || ping != c.ping {
			t.Errorf("keepaliveParams(%+v) = %+v, %v; want %+v, %v", c.options, got, ping, c.want, c.ping)
		}
	}
}
