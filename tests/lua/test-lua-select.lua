-- weft.select and weft.poller from Lua: sockets and Events (readable while
-- set), both poller backends, raw descriptors, edge and one-shot modes.
require "busted.runner"({output = "TAP"})

local weft = require "weft"
local helper = require "helper"
local S = weft.socket

local function closing(...)
  local objs = {...}
  return setmetatable({}, {__close = function()
    for _, o in ipairs(objs) do
      o:close()
    end
  end})
end

describe("weft.select", function()
  it("reports a socket with data readable, one without not", function()
    local a, b = S.pair()
    local c, d = S.pair()
    local _ <close> = closing(a, b, c, d)
    a:send("x")
    local r, w, err = weft.select({b, d}, nil, 0)
    assert.are.equal(1, #r)
    assert.are.equal(b, r[1])
    assert.are.equal(1, r[b]) -- keyed by object too, as LuaSocket's
    assert.is_nil(r[d])
    assert.are.same({}, w)
    assert.is_nil(err)
  end)

  it("reports writable sockets", function()
    local a, b = S.pair()
    local _ <close> = closing(a, b)
    local r, w = weft.select({a}, {a, b}, 0)
    assert.are.equal(0, #r)
    assert.are.equal(2, #w)
    assert.are.equal(a, w[1])
    assert.are.equal(b, w[2])
  end)

  it("answers empty lists and \"timeout\" when nothing is ready", function()
    local a, b = S.pair()
    local _ <close> = closing(a, b)
    local t0 = weft.monotonic()
    local r, w, err = weft.select({a, b}, {}, 0.05)
    assert.are.same({}, r)
    assert.are.same({}, w)
    assert.are.equal("timeout", err)
    assert.is_true(weft.monotonic() - t0 >= 0.04)
  end)

  it("takes an Event, readable while it is set", function()
    local ev = weft.Event()
    local a, b = S.pair()
    local _ <close> = closing(a, b)
    assert.are.equal("timeout", select(3, weft.select({ev, b}, nil, 0)))
    ev:set()
    local r = weft.select({ev, b}, nil, 0)
    assert.are.equal(ev, r[1])
    assert.are.equal(1, #r)
    ev:clear()
    assert.are.equal(0, #weft.select({ev}, nil, 0))
  end)

  it("wakes when another thread sends or sets an Event", function()
    local a, b = S.pair()
    local _ <close> = closing(a, b)
    local go, ev = weft.Event(), weft.Event()
    local t = weft.Thread(function(go, a, ev)
      assert(go:wait(60))
      a:sendall("wake")
      ev:set()
    end, go, a, ev)
    t:start()
    go:set()
    local seen = {}
    while not (seen[b] and seen[ev]) do
      local r = weft.select({b, ev}, nil, 60)
      for _, obj in ipairs(r) do
        seen[obj] = true
      end
    end
    assert.is_true(t:join(60))
    assert.are.equal("wake", b:recv(10))
  end)

  it("takes an exceptional list as a third list", function()
    local a, b = S.pair()
    local _ <close> = closing(a, b)
    local r, w, x, err = weft.select({a}, {a}, {a}, 0)
    assert.are.same({}, r)
    assert.are.equal(a, w[1])
    assert.are.same({}, x)
    assert.is_nil(err)
  end)

  it("reports a socket readable while receive() holds data", function()
    local a, b = S.pair()
    local _ <close> = closing(a, b)
    a:send("one\ntwo\n")
    assert.are.equal("one", b:receive())
    -- "two\n" may be all in b's buffer now: the descriptor is empty
    local r = weft.select({b}, nil, 0)
    assert.are.equal(b, r[1])
    assert.are.equal("two", b:receive())
  end)

  it("takes handles as integers", function()
    local a, b = S.pair()
    local _ <close> = closing(a, b)
    a:send("x")
    local r = weft.select({b.handle}, nil, 0)
    assert.are.equal(b.handle, r[1])
  end)

  it("refuses what is neither a socket nor an Event", function()
    local a, b = S.pair()
    local _ <close> = closing(a, b)
    helper.weft_error("WEFT_EBADHANDLE", weft.select, {weft.Lock()}, nil, 0)
    helper.weft_error("WEFT_EVALUE", weft.select, {"sock"}, nil, 0)
    helper.weft_error("WEFT_EVALUE", weft.select, "sock", nil, 0)
    local closed = S.tcp()
    closed:close()
    helper.weft_error("WEFT_EBADHANDLE", weft.select, {closed}, nil, 0)
  end)

  it("refuses a list whose length would overflow the array (core)", function()
    -- luaL_len takes __len: 2^61 + 1 handles are 8 bytes once multiplied.
    local huge = setmetatable({}, {
      __len = function() return (1 << 61) + 1 end,
      __index = function() return 1 end,
    })
    local ok, err = pcall(weft.core.select_wait, huge, {}, {}, 0)
    assert.is_false(ok)
    assert.matches("too many", tostring(err))
  end)
end)

for _, backend in ipairs({"epoll", "poll"}) do
  describe("a poller (" .. backend .. ")", function()
    local p
    before_each(function() p = weft.poller(backend) end)
    after_each(function() p:close() end)

    it("reports a readable socket with its key and events", function()
      local a, b = S.pair()
      local _ <close> = closing(a, b)
      p:register(b, S.POLLIN, "the b side")
      assert.are.same({}, p:wait(0))
      a:send("x")
      local evs = p:wait(60)
      assert.are.equal(1, #evs)
      assert.are.equal("the b side", evs[1].key)
      assert.are.equal(S.POLLIN, evs[1].events & S.POLLIN)
    end)

    it("uses the target as the key by default", function()
      local a, b = S.pair()
      local _ <close> = closing(a, b)
      p:register(a, "w")
      local evs = p:wait(60)
      assert.are.equal(a, evs[1].key)
      assert.are.equal(S.POLLOUT, evs[1].events)
    end)

    it("watches an Event", function()
      local ev = weft.Event()
      p:register(ev, "r")
      assert.are.same({}, p:wait(0.01))
      ev:set()
      local evs = p:wait(60)
      assert.are.equal(ev, evs[1].key)
      assert.are.equal(S.POLLIN, evs[1].events & S.POLLIN)
    end)

    it("modifies and unregisters", function()
      local a, b = S.pair()
      local _ <close> = closing(a, b)
      p:register(b, "r", 1)
      p:modify(b, "w", 2)
      local evs = p:wait(60)
      assert.are.equal(2, evs[1].key)
      assert.are.equal(S.POLLOUT, evs[1].events)
      p:unregister(b)
      assert.are.same({}, p:wait(0))
      helper.weft_error("ENOENT", p.unregister, p, b)
      helper.weft_error("ENOENT", p.modify, p, b, "r")
    end)

    it("refuses a second registration of a target", function()
      local a, b = S.pair()
      local _ <close> = closing(a, b)
      p:register(a, "r")
      helper.weft_error("EEXIST", p.register, p, a, "w")
    end)

    it("EPOLLONESHOT reports once until modify re-arms it", function()
      local a, b = S.pair()
      local _ <close> = closing(a, b)
      p:register(b, S.POLLIN | S.EPOLLONESHOT)
      a:send("x")
      assert.are.equal(1, #p:wait(60))
      assert.are.same({}, p:wait(0))
      p:modify(b, S.POLLIN | S.EPOLLONESHOT)
      assert.are.equal(1, #p:wait(60))
    end)

    it("EPOLLET reports data once, then again when more comes", function()
      local a, b = S.pair()
      local _ <close> = closing(a, b)
      p:register(b, S.POLLIN | S.EPOLLET)
      a:send("x")
      assert.are.equal(1, #p:wait(60))
      assert.are.same({}, p:wait(0))
      assert.are.equal("x", b:recv(10))
      b:setblocking(false)
      assert.are.equal("timeout", select(2, b:recv(10))) -- drained
      a:send("y")
      assert.are.equal(1, #p:wait(60))
    end)

    it("watches a raw descriptor", function()
      local a, b = S.pair()
      local _ <close> = closing(a, b)
      local fd = b:fileno()
      p:register(fd, S.POLLIN, "fd")
      a:send("x")
      local evs = p:wait(60)
      assert.are.equal("fd", evs[1].key)
      p:unregister(fd)
    end)

    it("watches a stream by its descriptor", function()
      local a, b = S.pair()
      local _ <close> = closing(a, b)
      local f <close> = b:makefile("r")
      p:register(f, "r")
      a:send("line\n")
      assert.are.equal(f, p:wait(60)[1].key)
      p:unregister(f)
      assert.are.equal("line", f:read())
    end)

    it("reports at most max, the rest at the next wait", function()
      local socks = {}
      for i = 1, 3 do
        local a, b = S.pair()
        socks[#socks + 1] = a
        socks[#socks + 1] = b
        p:register(a, "w", i)
      end
      local _ <close> = closing(table.unpack(socks))
      assert.are.equal(2, #p:wait(60, 2))
      assert.are.equal(3, #p:wait(60, 8))
    end)

    it("forgets a target closed while registered", function()
      local a, b = S.pair()
      local _ <close> = closing(a)
      p:register(b, "w")
      b:close()
      assert.are.same({}, p:wait(0))
      assert.is_true(p:unregister(b))
    end)

    it("reports a socket readable while receive() holds data", function()
      local a, b = S.pair()
      local _ <close> = closing(a, b)
      p:register(b, "r")
      a:send("one\ntwo\n")
      assert.are.equal("one", b:receive())
      assert.are.equal(b, p:wait(0)[1].key)
    end)

    it("refuses bad events and a bad max", function()
      local a, b = S.pair()
      local _ <close> = closing(a, b)
      helper.weft_error("WEFT_EVALUE", p.register, p, a, "x")
      helper.weft_error("WEFT_EVALUE", p.register, p, a, 1 << 40)
      helper.weft_error("WEFT_EVALUE", p.wait, p, 0, 0)
      helper.weft_error("WEFT_EBADHANDLE", p.register, p, weft.Lock())
    end)

    it("takes a huge max (the arrays' sizes do not overflow)", function()
      local socks = {}
      for _ = 1, 4 do
        local a, b = S.pair()
        socks[#socks + 1], socks[#socks + 2] = a, b
        p:register(a, "w")
      end
      local _ <close> = closing(table.unpack(socks))
      -- (2^62 + 1) * 8 and * 4 wrap around to 8 and 4 bytes.
      assert.are.equal(4, #p:wait(0, (1 << 62) + 1))
      assert.are.equal(4, #weft.core.poller_poll(p.handle, 0, (1 << 62) + 1))
    end)
  end)
end

describe("a wait that a callback interrupts", function()
  -- As in test-lua-socket.lua: the thread sends only after the barrier's
  -- action ran in this state, which only this state's wait can run.
  it("select runs it and still reports the socket", function()
    local runs = 0
    local bar = weft.Barrier(1, function() runs = runs + 1 end)
    local a, b = S.pair()
    local _ <close> = closing(a, b)
    local t = weft.Thread(function(bar, a)
      bar:wait(60)
      assert(a:sendall("x"))
    end, bar, a)
    t:start()
    local r = weft.select({b}, nil, 60)
    assert.are.equal(b, r[1])
    assert.are.equal(1, runs)
    assert.is_true(t:join(60))
  end)

  it("a poller's wait runs it and still reports the socket", function()
    local runs = 0
    local bar = weft.Barrier(1, function() runs = runs + 1 end)
    local a, b = S.pair()
    local _ <close> = closing(a, b)
    local p <close> = weft.poller()
    p:register(b, "r")
    local t = weft.Thread(function(bar, a)
      bar:wait(60)
      assert(a:sendall("x"))
    end, bar, a)
    t:start()
    assert.are.equal(b, p:wait(60)[1].key)
    assert.are.equal(1, runs)
    assert.is_true(t:join(60))
  end)
end)

describe("weft.poller", function()
  it("refuses an unknown backend", function()
    helper.weft_error("WEFT_EVALUE", weft.poller, "kqueue")
  end)

  it("closes with a <close> variable", function()
    local h
    do
      local p <close> = weft.poller()
      h = p.handle
    end
    helper.weft_error("WEFT_EBADHANDLE", weft.core.handle_kind, h)
  end)
end)
