# frozen_string_literal: true

# weft_io.rb - weft's io module: Weft::Stream, a buffered binary stream
# over a descriptor (Python's BufferedRWPair), with Ruby IO's reading and
# writing methods (loaded by `require "weft"`).
#
#   stream = sock.makefile          # "r+", sync: true, as a Ruby socket
#   stream.puts "HELLO"             # sent at once (sync)
#   stream.gets                     # => "hello\n"
#   stream.each_line(chomp: true) { |line| ... }
#
#   log = Weft::Stream.new($stdout, "w")   # over a duplicate of fd 1
#
# A stream works on its own duplicate of the descriptor, so it and its
# socket (or IO) close independently.  It has a timeout like a socket's
# (makefile copies the socket's).  Reads never lose data: a read that
# fails (a timeout, an interrupt, Weft::ClosedError) keeps what it had read
# for the next one.  A reader and a writer may work on one stream at once
# (each side has its own lock).  Lines end at "\n" (gets with another
# separator is an ArgumentError); data is binary (ASCII-8BIT).
module Weft
  KIND_STREAM = Native::WEFT_KIND_STREAM

  # ---- helpers shared with the sockets ----

  # A length for read and recv: an Integer >= 0 (ArgumentError for a
  # negative one, as IO#read).
  def self.length_arg(length)
    raise TypeError, "no implicit conversion of #{length.class} into Integer" unless length.is_a?(Integer)
    raise ArgumentError, "negative length #{length} given" if length.negative?

    length
  end

  # data, or data moved into outbuf (IO#read's second argument).
  def self.into(data, outbuf)
    return data if outbuf.nil? || data.nil?

    outbuf.replace(data)
  end

  # gets(sep = $/, limit = nil) / gets(limit) -> [sep, limit]; limit nil
  # for none (a negative one is none, as in Ruby).
  def self.line_args(args)
    raise ArgumentError, "wrong number of arguments (given #{args.size}, expected 0..2)" if args.size > 2

    sep = $/
    limit = nil
    if args.size == 2
      sep, limit = args
    elsif args.size == 1
      args[0].is_a?(Integer) ? (limit = args[0]) : (sep = args[0])
    end
    limit = nil if limit&.negative?
    raise TypeError, "no implicit conversion of #{limit.class} into Integer" unless limit.nil? || limit.is_a?(Integer)
    raise TypeError, "no implicit conversion of #{sep.class} into String" unless sep.nil? || sep.is_a?(String)
    raise ArgumentError, "paragraph mode (gets(\"\")) is not supported" if sep == ""

    [sep, limit]
  end

  def self.chomped(line, sep, chomp)
    return line unless chomp && line

    sep.nil? ? line : line.chomp(sep)
  end

  # IO#puts's text for objs: each on a line, arrays flattened.
  def self.puts_text(objs)
    return "\n" if objs.empty?

    out = +""
    objs.flatten.each do |o|
      s = o.nil? ? "" : o.to_s
      out << s
      out << "\n" unless s.end_with?("\n")
    end
    out
  end

  # IO's writing conveniences over a class's #write(*objs): Stream and
  # BasicSocket share them.
  module Writer
    def <<(obj)
      write(obj)
      self
    end

    def print(*objs)
      write(*(objs.empty? ? [$_] : objs))
      nil
    end

    # Each object on a line of its own, as IO#puts.
    def puts(*objs)
      write(Weft.puts_text(objs))
      nil
    end

    def printf(format, *args)
      write(format(format, *args))
      nil
    end
  end

  # A buffered stream (WEFT_KIND_STREAM).  Socket#makefile makes one;
  # Weft::Stream.new(io_or_fd, mode) makes one over any other descriptor
  # (a pipe, a file, a terminal).
  class Stream < Handle
    include Writer
    KINDS = [KIND_STREAM].freeze
    N = Native
    private_constant :N

    # Ruby's mode letters to weft's: "r" reads, "w" or "a" writes, "+"
    # both; "b" and "t" mean nothing (streams are bytes).
    def self.weft_mode(mode)
      mode = mode.to_s
      raise ArgumentError, "invalid access mode #{mode}" unless mode.match?(/\A[rwa][+bt]*\z/)

      read = mode.start_with?("r") || mode.include?("+")
      write = !mode.start_with?("r") || mode.include?("+")
      (read ? "r" : "") + (write ? "w" : "")
    end

    # A stream over a duplicate of fd (an Integer, or an IO's fileno).
    # buffering: nil (8 KiB), 0 (none), 1 (line-buffered writes), or the
    # buffer's size.  sync: true writes every write out at once (Ruby's
    # IO#sync).  Starts blocking (#timeout= to change).
    def initialize(fd, mode = "r", buffering: nil, sync: false)
      fd = fd.fileno if fd.respond_to?(:fileno)
      weft_own(N.stream_new(fd, Stream.weft_mode(mode), buffering || -1))
      @sync = sync
    end

    def self.for_handle(handle, own: false)
      wrap(handle, own: own)
    end

    # An object owning a new handle (makefile's).
    def self.adopt(handle)
      obj = allocate
      obj.__send__(:weft_own, handle)
      obj
    end

    # A finalizer closes (and so flushes) without the GVL.
    def self.closer(handle)
      proc do
        Native.stream_close(handle)
      rescue StandardError
        nil
      end
    end

    # true: every write is written out at once.
    attr_accessor :sync

    # ---- reading ----

    # IO#read: length bytes (fewer only at the end), nil at the end; no
    # length: everything to the end ("" if nothing).
    def read(length = nil, outbuf = nil)
      data = if length.nil?
               N.stream_readall(@handle)
             elsif Weft.length_arg(length).zero?
               +""
             else
               d = N.stream_read(@handle, length)
               d.empty? ? nil : d
             end
      Weft.into(data, outbuf)
    rescue BadHandleError => e
      raise closed_or(e)
    end

    # Up to maxlen bytes with at most one read underneath (Python's
    # read1), waiting only if nothing is buffered; EOFError at the end.
    def readpartial(maxlen, outbuf = nil)
      data = N.stream_read1(@handle, Weft.length_arg(maxlen))
      raise EOFError, "end of file reached" if data.empty? && maxlen.positive?

      Weft.into(data, outbuf)
    rescue BadHandleError => e
      raise closed_or(e)
    end

    # readpartial, "" at the end instead of EOFError.
    def read1(maxlen)
      N.stream_read1(@handle, Weft.length_arg(maxlen))
    rescue BadHandleError => e
      raise closed_or(e)
    end

    # The next line, through "\n" (chomp: without it), at most limit
    # bytes; nil at the end.  gets(nil) reads everything.
    def gets(*args, chomp: false)
      sep, limit = Weft.line_args(args)
      line = if sep.nil?
               d = limit ? read(limit) : read
               d.nil? || d.empty? ? nil : d
             else
               raise ArgumentError, "a Weft::Stream splits lines at \"\\n\" only, not #{sep.inspect}" unless sep == "\n"

               l = N.stream_readline(@handle, limit || -1)
               l.empty? && limit != 0 ? nil : l
             end
      Weft.chomped(line, sep, chomp)
    rescue BadHandleError => e
      raise closed_or(e)
    end

    # gets, or EOFError at the end.
    def readline(*args, chomp: false)
      gets(*args, chomp: chomp) or raise EOFError, "end of file reached"
    end

    def each_line(*args, chomp: false)
      return enum_for(:each_line, *args, chomp: chomp) unless block_given?

      while (line = gets(*args, chomp: chomp))
        yield line
      end
      self
    end
    alias each each_line

    def readlines(*args, chomp: false)
      each_line(*args, chomp: chomp).to_a
    end

    # ---- writing ----

    # Every object as a String; the bytes written.  In sync mode they are
    # written out before this returns.
    def write(*objs)
      data = objs.size == 1 ? objs[0].to_s : objs.join
      N.stream_write(@handle, data, @sync)
    rescue BadHandleError => e
      raise closed_or(e)
    end

    # Write out what is buffered.
    def flush
      N.stream_flush(@handle)
      self
    rescue BadHandleError => e
      raise closed_or(e)
    end

    # ---- the rest ----

    # nil (blocking), 0 (non-blocking) or seconds, as a socket's.
    def timeout
      t = N.stream_get_timeout(@handle)
      t.negative? ? nil : t
    rescue BadHandleError => e
      raise closed_or(e)
    end

    def timeout=(seconds)
      N.stream_set_timeout(@handle, seconds.nil? ? -1.0 : Weft.timeout_arg(seconds))
    rescue BadHandleError => e
      raise closed_or(e)
    end

    # The stream's own descriptor (do not close it).
    def fileno
      N.stream_fileno(@handle)
    rescue BadHandleError => e
      raise closed_or(e)
    end
    alias to_i fileno

    def readable?
      N.stream_readable(@handle)
    end

    def writable?
      N.stream_writable(@handle)
    end

    def binmode
      self
    end

    def binmode?
      true
    end

    # Flush, then close, as IO#close: the handle is closed even if the
    # flush fails or is interrupted (Thread#kill, Timeout.timeout,
    # Ctrl-C), and the flush's error goes on after; what it could not
    # write is lost.  Both wait without the GVL, interruptibly.
    def close
      return nil if @closed

      @closed = true
      return nil unless @own

      ObjectSpace.undefine_finalizer(self)
      flushed = false
      begin
        N.stream_flush(@handle) if writable?
        flushed = true
      ensure
        close_handle(flushed)
      end
      nil
    end

    private

    # After a flush that failed, the close's own flush must not wait for
    # the same bytes again (it would hang where the interrupt came), and
    # the flush's error is the one raised.
    def close_handle(flushed)
      unless flushed
        begin
          N.stream_set_timeout(@handle, 0.0)
        rescue StandardError
          nil
        end
      end
      N.stream_close(@handle)
    rescue StandardError
      raise if flushed
    end

    def weft_own(handle)
      super
      ObjectSpace.undefine_finalizer(self)
      ObjectSpace.define_finalizer(self, Stream.closer(handle))
    end
  end
end
