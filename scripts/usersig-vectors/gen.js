// Regenerates usersig/testdata/node-vectors.json with the official
// tls-sig-api-v2 npm package and a fixed clock. Run: scripts/usersig-vectors/run.sh
'use strict';
const TLSSigAPIv2 = require('tls-sig-api-v2');

const NOW = 1700000000; // seconds; the clock every vector is generated at
Date.now = () => NOW * 1000;

const apps = [
  { sdkappid: 1400000000, key: '5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e' },
  { sdkappid: 1400000001, key: 'trtcd-development-only-app-key-0000000000000000000000000000000001' },
  { sdkappid: 20000001, key: 'short' },
];
const users = ['xiaojun', 'alice', 'A_b-9', 'x'.repeat(32)];
const out = [];
for (const app of apps) {
  const api = new TLSSigAPIv2.Api(app.sdkappid, app.key);
  for (const userid of users) {
    for (const expire of [1, 86400, 15552000]) {
      out.push({ kind: 'usersig', sdkappid: app.sdkappid, key: app.key, userid, time: NOW, expire,
        sig: api.genUserSig(userid, expire) });
    }
    out.push({ kind: 'privatemapkey', sdkappid: app.sdkappid, key: app.key, userid, time: NOW, expire: 300,
      roomid: 1234, privilege: 255, sig: api.genPrivateMapKey(userid, 300, 1234, 255) });
    out.push({ kind: 'privatemapkey', sdkappid: app.sdkappid, key: app.key, userid, time: NOW, expire: 300,
      roomid: 4294967294, privilege: 42, sig: api.genPrivateMapKey(userid, 300, 4294967294, 42) });
    out.push({ kind: 'privatemapkey', sdkappid: app.sdkappid, key: app.key, userid, time: NOW, expire: 300,
      strroomid: 'room1', privilege: 255, sig: api.genPrivateMapKeyWithStringRoomID(userid, 300, 'room1', 255) });
    out.push({ kind: 'privatemapkey', sdkappid: app.sdkappid, key: app.key, userid, time: NOW, expire: 600,
      strroomid: 'a b!#$%&()+-:;<=.>?@[]^_{}|~,', privilege: 1, sig: api.genPrivateMapKeyWithStringRoomID(userid, 600, 'a b!#$%&()+-:;<=.>?@[]^_{}|~,', 1) });
  }
}
process.stdout.write(JSON.stringify(out, null, 1) + '\n');
