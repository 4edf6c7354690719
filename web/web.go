// Package web holds trtcd's browser files, embedded in the binary: the
// browser SDK (sdk/trtcd.js and its types, also an npm package) and the
// development demo page (demo/). internal/webui serves them.
package web

import "embed"

// Files are sdk/trtcd.js, sdk/trtcd.d.ts and the demo page's files.
//
//go:embed sdk/trtcd.js sdk/trtcd.d.ts demo/index.html demo/demo.js demo/demo.css
var Files embed.FS
