-- sockhelper.lua - peers for the socket tests.  A test's server thread
-- runs in a fresh Lua state, so it runs Lua source that requires this
-- module: weft.Thread("require('sockhelper').echo(...)", srv).
local weft = require "weft"

local sockhelper = {}

-- Accept one connection on srv and send back everything it receives,
-- until the peer closes.
function sockhelper.echo(srv)
  local c <close> = assert(srv:accept())
  while true do
    local data = c:recv(65536)
    if not data then
      return
    end
    assert(c:sendall(data))
  end
end

-- Send every datagram back to its sender until one says "quit".
function sockhelper.echo_dgram(sock)
  while true do
    local data, host, port = assert(sock:recvfrom(65536))
    if data == "quit" then
      return
    end
    assert(sock:sendto(data, host, port))
  end
end

-- Adler-32 of s, as an integer.
function sockhelper.adler32(s)
  local a, b = 1, 0
  local byte = string.byte
  for i = 1, #s, 4096 do
    local chunk = {byte(s, i, i + 4095)}
    for j = 1, #chunk do
      a = (a + chunk[j]) % 65521
      b = (b + a) % 65521
    end
  end
  return (b << 16) | a
end

-- Accept one connection, read everything until the peer shuts down its
-- sending side, answer "<length> <adler32>\n".
function sockhelper.checksum(srv)
  local c <close> = assert(srv:accept())
  local data = assert(c:receive("a"))
  assert(c:sendall(("%d %d\n"):format(#data, sockhelper.adler32(data))))
end

-- Set `ready`, then recv on sock; report the outcome in `outcome`'s value
-- (an Event set plus a Semaphore released 1 for "closed", 2 for a raised
-- WEFT_EBADHANDLE, 3 for anything else).
function sockhelper.blocked_recv(sock, ready, outcome, done)
  ready:set()
  local ok, data, why = pcall(sock.recv, sock, 10)
  if ok and data == nil and why == "closed" then
    outcome:release(1)
  elseif not ok and data.name == "WEFT_EBADHANDLE" then
    outcome:release(2)
  else
    outcome:release(3)
  end
  done:set()
end

-- Send `text` on sock once `go` is set.
function sockhelper.send_after(sock, go, text)
  assert(go:wait(60))
  assert(sock:sendall(text))
end

return sockhelper
