#!/usr/bin/env node
console.log('polyedge');
