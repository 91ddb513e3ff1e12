#!/usr/bin/env node
// Committed launcher, so npm can link the `chatapi` bin before the first build.
import "../dist/cli.js";
