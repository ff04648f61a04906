// Every built-in step registers itself when its module loads.
import './syscalls.js';
import './user.js';
import './query.js';
import './gup.js';
import './signals.js';
