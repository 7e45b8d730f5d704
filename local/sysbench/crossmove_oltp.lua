-- sysbench's stock OLTP transaction (oltp_write_only or oltp_read_write from the sysbench package,
-- chosen by the CROSSMOVE_OLTP environment variable) run the way an application's connection pool runs
-- it, plus a ledger that lets crossmove count lost writes after a cutover:
--
-- * every transaction also inserts one row (run_id, thread_id, seq) into sbtest_ledger, inside the
--   transaction, just before COMMIT: the row exists on a server exactly when the whole transaction does;
-- * each thread appends to <ledger-dir>/thread-<tid>.log what the client saw of each transaction:
--     B <seq> <epoch ms>              the transaction (or its retry, a new seq) began
--     C <seq>                         COMMIT sent (its outcome may be unknown if the reply is lost)
--     A <seq> <epoch ms>              COMMIT acknowledged
--     E <seq> <errno> <stage> <ms>    an error; stage is body (before COMMIT was sent) or commit
-- * every error restarts the transaction after --retry-pause-ms, rolled back first (sysbench itself
--   would BEGIN again on the same connection, which implicitly commits the statements that did
--   succeed: a half transaction);
-- * a connection that is gone (killed, lost) is replaced by a new one, as a pool does, and so is one
--   that failed with an error in --replace-connection-on ('all': every error, a connection storm when
--   the server refuses writes). sysbench's own reconnect is not used: with the MariaDB client library
--   Debian builds it against, it reuses the closed handle and hangs (akopytov/sysbench#527), so run
--   with --mysql-ignore-errors=none and let the hooks below decide;
-- * the run ends when --stop-file exists (or --time runs out), so every thread closes its log;
-- * it also ends, at once, when the process that started it is gone (--parent-pid): nobody would read
--   its logs, and with its server gone too it would only spin reconnecting. crossmove starts it under
--   a parent-death signal as well (local/bound-child.ts); this is the guard where that is missing;
-- * reconnecting backs off (from --retry-pause-ms up to 100 ms) while no connection can be made, and
--   gives up when the run ends: each failed connect costs the client library memory it never frees.
local stock = os.getenv("CROSSMOVE_OLTP") or "oltp_write_only"
if stock ~= "oltp_write_only" and stock ~= "oltp_read_write" then
   error("CROSSMOVE_OLTP must be oltp_write_only or oltp_read_write, not " .. stock)
end
require(stock)

sysbench.cmdline.options.ledger_dir =
   {"Directory for the per-thread transaction logs (crossmove)", ""}
sysbench.cmdline.options.ledger_run =
   {"Run number recorded with each ledger row (crossmove)", 1}
sysbench.cmdline.options.stop_file =
   {"The run ends when this file exists (crossmove)", ""}
sysbench.cmdline.options.replace_connection_on =
   {"Comma-separated MySQL errors after which the connection is replaced, or 'all' (crossmove)", ""}
sysbench.cmdline.options.retry_pause_ms =
   {"Pause before a failed transaction is retried (crossmove)", 1}
sysbench.cmdline.options.parent_pid =
   {"The run ends at once when this process is no longer its parent; 0: not watched (crossmove)", 0}

local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } crossmove_timespec;
int clock_gettime(int clock_id, crossmove_timespec *tp);
int usleep(unsigned int usec);
int getppid(void);
void _exit(int status);
]]
local timespec = ffi.new("crossmove_timespec")
local function now_ms()
   ffi.C.clock_gettime(0, timespec) -- CLOCK_REALTIME: the clock Node's Date.now() reads
   return tonumber(timespec.tv_sec) * 1000 + tonumber(timespec.tv_nsec) / 1e6
end

-- Errors after which the connection is unusable (lost, killed, server gone or refusing).
local GONE = { [2002] = true, [2003] = true, [2006] = true, [2011] = true, [2013] = true, [2055] = true,
               [1053] = true, [1927] = true, [4031] = true }

local log, seq, stage, run, replace_all, replace, next_check = nil, 0, "idle", 1, false, {}, 0
-- The end of --time (epoch ms), and whether this thread's connection is open.
local deadline, connected = math.huge, false

-- Orphaned: end the whole process now (its logs have no reader; every thread would see the same).
local function exit_if_orphaned()
   local parent = sysbench.opt.parent_pid
   if parent ~= 0 and ffi.C.getppid() ~= parent then
      io.stderr:write(string.format("crossmove_oltp: parent process %d is gone, ending the run\n", parent))
      ffi.C._exit(3)
   end
end

local stock_thread_init, stock_thread_done, stock_event = thread_init, thread_done, event
local stock_begin, stock_commit = begin, commit

function thread_init()
   local o = sysbench.opt
   assert(o.ledger_dir ~= "", "--ledger-dir is required")
   run = o.ledger_run
   replace_all = o.replace_connection_on == "all"
   for code in string.gmatch(o.replace_connection_on, "%d+") do replace[tonumber(code)] = true end
   if o.time > 0 then deadline = now_ms() + o.time * 1000 end
   exit_if_orphaned()
   log = assert(io.open(string.format("%s/thread-%d.log", o.ledger_dir, sysbench.tid), "w"))
   log:setvbuf("full")
   stock_thread_init()
   connected = true
end

function thread_done()
   log:flush()
   log:close()
   -- A connection that could not be replaced is closed already, and so are its statements.
   if connected then pcall(stock_thread_done) end
end

-- Flushes the log now and then (so that a live reader sees it) and ends the run on the stop file.
local stopping = false
local function stop_requested()
   local t = now_ms()
   if stopping or t < next_check then return stopping end
   next_check = t + 50
   log:flush()
   exit_if_orphaned()
   local f = sysbench.opt.stop_file ~= "" and io.open(sysbench.opt.stop_file, "r")
   if f then
      f:close()
      stopping = true
   end
   if t >= deadline then stopping = true end
   return stopping
end

function event()
   if stop_requested() then return true end
   stock_event()
end

function begin()
   seq = seq + 1
   stage = "body"
   -- When the client started wanting to write: with --rate a thread also idles between transactions,
   -- which is not time the database kept it waiting.
   log:write(string.format("B %d %.1f\n", seq, now_ms()))
   stock_begin()
end

function commit()
   con:query(string.format("INSERT INTO sbtest_ledger (run_id, thread_id, seq) VALUES (%d, %d, %d)", run, sysbench.tid, seq))
   stage = "commit"
   log:write("C ", seq, "\n")
   stock_commit()
   log:write(string.format("A %d %.1f\n", seq, now_ms()))
   stage = "idle"
end

-- Every error is retried (the application's pool does); before_restart_event decides how.
function sysbench.hooks.sql_error_ignorable(err)
   return true
end

local function pause(ms)
   ms = ms or sysbench.opt.retry_pause_ms
   if ms > 0 then ffi.C.usleep(ms * 1000) end
end

-- A new connection in place of the old one: tries until one is made, backing off while none can be,
-- or until the run ends (then false, with no connection).
local MAX_CONNECT_PAUSE_MS = 100
local function replace_connection()
   -- Statements are client-side (--db-ps-mode=disable) but belong to their connection: closed
   -- before it, made again on the new one.
   close_statements()
   pcall(con.disconnect, con)
   connected = false
   local wait = sysbench.opt.retry_pause_ms
   while true do
      local ok, fresh = pcall(drv.connect, drv)
      if ok then
         con = fresh
         prepare_statements()
         connected = true
         return true
      end
      if stop_requested() then return false end
      pause(wait)
      wait = math.min(MAX_CONNECT_PAUSE_MS, math.max(1, wait * 2))
   end
end

function sysbench.hooks.before_restart_event(err)
   local errno = err.sql_errno or 0
   log:write(string.format("E %d %d %s %.1f\n", seq, errno, stage, now_ms()))
   stage = "idle"
   pause()
   if not connected or GONE[errno] or replace_all or replace[errno] then
      replace_connection()
   else
      pcall(con.query, con, "ROLLBACK")
   end
end
