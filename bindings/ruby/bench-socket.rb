# frozen_string_literal: true

# bench-socket.rb - loopback TCP through Weft sockets beside Ruby's own
# TCPSocket, measured in the same run, alternating the two, best of RUNS:
#
#   calls       a 64-byte send and its recv on one thread, never waiting:
#               what the binding adds to the two system calls
#   ping-pong   a 64-byte message there and back (TCP_NODELAY), the echo
#               server in a forked child (Weft's for Weft, Ruby's for Ruby),
#               and in a Ruby thread of this process (the GVL in play)
#   bulk        64 KiB writes, read on the other side by a child
#
# `make bench-ruby` (BENCH_FLAGS=-q: shorter).  Nothing asserts on time.
require "weft"
require "socket"

QUICK = ARGV.include?("-q")
ROUNDS = QUICK ? 2_000 : 20_000
BULK = (QUICK ? 32 : 256) << 20
RUNS = QUICK ? 3 : 5
MSG = ("x" * 64).b.freeze
CHUNK = ("y" * 65_536).b.freeze
HOST = "127.0.0.1"

def now
  Process.clock_gettime(Process::CLOCK_MONOTONIC)
end

# An echo server of `kind` (:weft or :ruby) in a child process or a
# thread; [port, stop] where stop ends it.
def echo_server(kind, where)
  server = kind == :weft ? Weft::TCPServer.new(HOST, 0) : ::TCPServer.new(HOST, 0)
  port = kind == :weft ? server.local_address.ip_port : server.addr[1]
  serve = lambda do
    conn = server.accept
    conn.setsockopt(:TCP, :NODELAY, true)
    if kind == :weft
      while (d = conn.recv(65_536)) != ""
        conn.sendall(d)
      end
    else
      begin
        loop { conn.write(conn.readpartial(65_536)) }
      rescue EOFError
        nil
      end
    end
    conn.close
  end
  if where == :process
    pid = fork do
      serve.call
      exit!(0)
    end
    server.close
    [port, -> { Process.wait(pid) }]
  else
    t = ::Thread.new(&serve)
    [port, lambda {
      t.join
      server.close
    }]
  end
end

# A sink reading everything in a child; [port, wait].
def sink(kind)
  server = kind == :weft ? Weft::TCPServer.new(HOST, 0) : ::TCPServer.new(HOST, 0)
  port = kind == :weft ? server.local_address.ip_port : server.addr[1]
  pid = fork do
    conn = server.accept
    if kind == :weft
      nil until conn.recv(65_536).empty?
    else
      nil while conn.read(65_536)
    end
    exit!(0)
  end
  server.close
  [port, -> { Process.wait(pid) }]
end

def client(kind, port)
  s = kind == :weft ? Weft::TCPSocket.new(HOST, port) : ::TCPSocket.new(HOST, port)
  s.setsockopt(:TCP, :NODELAY, true)
  s
end

# Nanoseconds per send + recv on a connected pair, one thread.
def calls(kind)
  server = kind == :weft ? Weft::TCPServer.new(HOST, 0) : ::TCPServer.new(HOST, 0)
  port = kind == :weft ? server.local_address.ip_port : server.addr[1]
  a = client(kind, port)
  b = server.accept
  n = ROUNDS * 5
  100.times { a.send(MSG, 0) && b.recv(64) }
  t0 = now
  n.times do
    a.send(MSG, 0)
    b.recv(64)
  end
  ns = (now - t0) * 1e9 / n
  [a, b, server].each(&:close)
  ns
end

# Microseconds per round trip.
def ping_pong(kind, where)
  port, stop = echo_server(kind, where)
  s = client(kind, port)
  10.times { s.write(MSG) && s.read(64) } # warm up
  t0 = now
  ROUNDS.times do
    s.write(MSG)
    s.read(64)
  end
  us = (now - t0) * 1e6 / ROUNDS
  s.close
  stop.call
  us
end

# MiB/s.
def bulk(kind)
  port, stop = sink(kind)
  s = client(kind, port)
  t0 = now
  (BULK / CHUNK.bytesize).times { s.write(CHUNK) }
  s.close
  stop.call
  BULK / (now - t0) / (1 << 20)
end

def best(pick)
  weft = []
  ruby = []
  RUNS.times do
    weft << yield(:weft)
    ruby << yield(:ruby)
  end
  [weft.public_send(pick), ruby.public_send(pick)]
end

puts "ruby #{RUBY_VERSION}, weft #{Weft::VERSION}, best of #{RUNS}, #{ROUNDS} round trips, #{BULK >> 20} MiB bulk" \
     "#{ENV['SANITIZER'].to_s.empty? ? '' : " (#{ENV['SANITIZER']} build: not representative)"}"
rows = [
  ["send + recv 64 B, one thread, no waiting", "ns", :min, ->(k) { calls(k) }],
  ["ping-pong 64 B, echo in a child process", "us", :min, ->(k) { ping_pong(k, :process) }],
  ["ping-pong 64 B, echo in a Ruby thread", "us", :min, ->(k) { ping_pong(k, :thread) }],
  ["bulk 64 KiB writes to a child", "MiB/s", :max, ->(k) { bulk(k) }]
]
rows.each do |name, unit, pick, fn|
  w, r = best(pick) { |k| fn.call(k) }
  ratio = unit == "MiB/s" ? r / w : w / r # > 1: weft is slower
  printf "  %-42s weft %8.1f %-5s  Ruby %8.1f %-5s  %5.2fx Ruby's %s\n", name, w, unit, r, unit, ratio,
         unit == "MiB/s" ? "time per byte" : "time"
end
