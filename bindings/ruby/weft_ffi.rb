# frozen_string_literal: true

# weft_ffi.rb - Weft::FFI: weft's ctypes engine (libffi, struct layout as
# gcc does it) in the shape ruby-ffi and Fiddle users know.
#
#   require "weft_ffi"
#   libc = Weft::FFI.load("c")                       # or a path; nil: the process
#   strlen = libc.func("size_t strlen(const char*)") # a signature string
#   strlen.call("hello")                             # => 5, also strlen.("hello")
#   abs = libc.func(:abs, :int, [:int])              # name, result, arguments
#
#   class Point < Weft::FFI::Struct
#     layout :x, :int, :y, :double, :flags, bits(:uint, 3)
#   end
#
#   cmp = Weft::FFI::Callback.new("int(const void*, const void*)") do |a, b|
#     a.read_int <=> b.read_int
#   end
#
# The C half is bindings/ruby/rbffi.c (Function#call, Pointer, Callback,
# and Weft::FFI::Raw, the engine calls this file builds on).  Failures are
# the binding's: Weft::ValueError (< ArgumentError) for a bad signature,
# with the column in the message, Errno::ENOENT for a missing symbol,
# Weft::FFIError when dlopen fails, Weft::ClosedError for a closed library
# or a freed callback; TypeError / RangeError / ArgumentError for
# arguments that do not fit, as Ruby's own methods raise them.
# (weft.rb may load this file at its end, as it loads weft_io.rb: then
# Weft is there already.)
require "weft" unless defined?(Weft::Handle)

module Weft
  module FFI
    N = Weft::Native
    private_constant :N

    KIND_VOID = N::WEFT_FFI_KIND_VOID
    KIND_SINT = N::WEFT_FFI_KIND_SINT
    KIND_UINT = N::WEFT_FFI_KIND_UINT
    KIND_FLOAT = N::WEFT_FFI_KIND_FLOAT
    KIND_POINTER = N::WEFT_FFI_KIND_POINTER
    KIND_ARRAY = N::WEFT_FFI_KIND_ARRAY
    KIND_STRUCT = N::WEFT_FFI_KIND_STRUCT
    KIND_UNION = N::WEFT_FFI_KIND_UNION

    CALL_VARIADIC = N::WEFT_FFI_CALL_VARIADIC
    CALL_ERRNO = N::WEFT_FFI_CALL_ERRNO
    CALL_LIBFFI = N::WEFT_FFI_CALL_LIBFFI
    CALL_FAST = N::WEFT_FFI_CALL_FAST

    # ruby-ffi's type names, as weft names them.  Any other Symbol or
    # String goes to the engine as it is ("unsigned int", "c_int", "i").
    TYPE_NAMES = {
      void: "void", bool: "bool", char: "char", schar: "signed char",
      uchar: "unsigned char", short: "short", ushort: "unsigned short",
      int: "int", uint: "unsigned int", long: "long", ulong: "unsigned long",
      long_long: "long long", ulong_long: "unsigned long long",
      int8: "int8", uint8: "uint8", int16: "int16", uint16: "uint16",
      int32: "int32", uint32: "uint32", int64: "int64", uint64: "uint64",
      float: "float", double: "double", float32: "float", float64: "double",
      long_double: "long double", pointer: "void*", string: "char*",
      size_t: "size_t", ssize_t: "ssize_t", intptr_t: "intptr_t",
      uintptr_t: "uintptr_t", ptrdiff_t: "ptrdiff_t", wchar_t: "wchar_t"
    }.freeze

    # A C type: a handle of the engine (kept for the life of the process
    # for named types) and what it is.
    class Type
      attr_reader :handle, :kind, :size, :alignment, :struct_class, :element, :length

      def initialize(handle, struct_class: nil, element: nil, length: nil, target: nil)
        @handle = handle
        @kind, code, @size, @alignment = Raw.type_info(handle)
        @code = code.zero? && @kind == KIND_POINTER ? "P".ord : code
        @struct_class = struct_class
        @element = element
        @length = length
        @target = target
        freeze
      end

      # The ctypes code of a scalar ("i".ord), nil for void and aggregates.
      def code
        @code.zero? ? nil : @code
      end

      # For a pointer to a Struct class (Klass.ptr): that class.
      attr_reader :target

      def void?
        @kind == KIND_VOID
      end

      def scalar?
        !code.nil?
      end

      def pointer?
        @kind == KIND_POINTER
      end

      def struct?
        @kind == KIND_STRUCT || @kind == KIND_UNION
      end

      def array?
        @kind == KIND_ARRAY
      end

      def name
        Raw.type_name(@handle)
      end

      def inspect
        "#<Weft::FFI::Type #{name} size=#{@size} align=#{@alignment}>"
      end
      alias to_s name
    end

    # A bitfield in a Struct layout: Struct.bits(:uint, 3).
    Bitfield = ::Struct.new(:type, :width)

    @types = {}
    @types_lock = ::Thread::Mutex.new

    # The Type for a type spec: a Symbol (ruby-ffi's names), a String (a C
    # or ctypes name), a Type, a Struct class (by value), or [type, n] (an
    # array of n, for struct fields).  TypeError for anything else.
    def self.find_type(spec)
      case spec
      when Type then spec
      when Symbol, String
        @types[spec] || @types_lock.synchronize do
          @types[spec] ||= begin
            name = spec.is_a?(Symbol) ? TYPE_NAMES.fetch(spec) { spec.to_s } : spec
            begin
              Type.new(Raw.type_named(name))
            rescue TypeError
              raise TypeError, "unknown type #{spec.inspect}"
            end
          end
        end
      when Class
        return spec.ffi_type if spec < Struct

        raise TypeError, "#{spec} is not a Weft::FFI::Struct class"
      when Array
        unless spec.size == 2 && spec[1].is_a?(Integer)
          raise TypeError, "an array type is [type, length], not #{spec.inspect}"
        end

        elem = find_type(spec[0])
        Type.new(Raw.array_new(elem.handle, spec[1]), element: elem, length: spec[1])
      else
        raise TypeError, "unknown type #{spec.inspect}"
      end
    end

    # sizeof and _Alignof of a type spec.
    def self.sizeof(spec)
      find_type(spec).size
    end

    def self.alignment(spec)
      find_type(spec).alignment
    end

    # The file name of a library by short name: "c" -> "libc.so.6";
    # Errno::ENOENT if there is none.
    def self.find_library(name)
      Raw.find_library(name.to_s)
    end

    # Load a library: a short name ("c", "m"), a file name or a path; nil
    # for the process's own namespace.  flags: RTLD_* values (0: RTLD_NOW
    # | RTLD_LOCAL).  With a block, yields it and closes it afterwards.
    def self.load(name, flags = 0)
      lib = Library.new(name, flags)
      return lib unless block_given?

      begin
        yield lib
      ensure
        lib.close unless lib.closed?
      end
    end

    # errno as the last call of a function made with errno: true (the
    # default) left it, on this thread; errno= sets what the next one sees
    # (ctypes' get_errno / set_errno).
    def self.errno
      Raw.errno_get
    end

    def self.errno=(value)
      Raw.errno_set(value)
    end

    # The flags of a function from the keyword options.
    def self.call_flags(errno, libffi)
      (errno ? CALL_ERRNO : 0) | (libffi ? CALL_LIBFFI : 0)
    end
    private_class_method :call_flags

    # A shared library, opened by Weft::FFI.load.  Closing it makes its
    # functions raise Weft::ClosedError instead of calling into unmapped
    # code.
    class Library
      attr_reader :name

      def initialize(name, flags = 0)
        raise TypeError, "flags must be an Integer" unless flags.is_a?(Integer)

        name = name.to_path if name.respond_to?(:to_path)
        unless name.nil? || name.is_a?(String) || name.is_a?(Symbol)
          raise TypeError, "a library is a name, a path or nil, not #{name.class}"
        end

        @name = name&.to_s
        path = @name
        if path && !path.include?("/") && !path.include?(".so")
          begin
            path = FFI.find_library(path) # "c" -> "libc.so.6"
          rescue Errno::ENOENT
            path = @name # let dlopen say why it fails
          end
        end
        __open(path, flags)
        @path = path
      end

      # A Function for C function `name`:
      #   func("size_t strlen(const char*)")      a signature string
      #   func(:abs, :int, [:int])                 name, result, arguments
      #   func(:strlen, "L(z)")                    name, a nameless signature
      #   func(:printf, :int, [:string, :varargs]) variadic
      # Options: blocking: true releases the GVL around each call (for C
      # functions that block or run long; a callback from another thread
      # into Ruby needs it), errno: false skips saving errno,
      # libffi: true never takes the engine's fast path.
      def func(name, ret = nil, args = nil, blocking: false, errno: true, libffi: false)
        flags = FFI.send(:call_flags, errno, libffi)
        if ret.nil? && args.nil?
          raise TypeError, "a signature is a String, not #{name.class}" unless name.is_a?(String)

          h = __function(name, flags)
          return Function.wrap(h, Raw.function_name(h), self, nil, nil, blocking)
        end
        if ret.is_a?(String) && args.nil? # func(:strlen, "L(z)"): a signature for that symbol
          h = Raw.function_parse(symbol(name.to_s), ret, flags)
          return Function.wrap(h, name.to_s, self, nil, nil, blocking)
        end
        raise ArgumentError, "func(name, result, [arguments]) needs both types" if ret.nil? || args.nil?

        Function.build(symbol(name.to_s), name.to_s, ret, args, flags, blocking, self)
      end
      alias function func

      # A function by name, ruby-ffi's argument order: attach(:abs, [:int], :int).
      def attach(name, args, ret, **opts)
        func(name, ret, args, **opts)
      end

      def inspect
        "#<Weft::FFI::Library #{@path || '(process)'}#{closed? ? ' closed' : ''}>"
      end
    end

    # ruby-ffi's module idiom:
    #   module LibC
    #     extend Weft::FFI::DSL
    #     ffi_lib "c"                                   # none: the process
    #     attach_function :strlen, [:string], :size_t
    #     attach_function :my_abs, :abs, [:int], :int   # another Ruby name
    #     attach_function "double cos(double)"          # a signature string
    #   end
    #   LibC.strlen("abc")
    # Options as Library#func's (blocking:, errno:, libffi:).
    module DSL
      def ffi_lib(*names)
        @ffi_libraries = names.flatten.map { |n| n.is_a?(Library) ? n : FFI.load(n) }
      end

      def ffi_libraries
        @ffi_libraries ||= [FFI.load(nil)]
      end

      def attach_function(name, *rest, **opts)
        if rest.empty?
          lib = ffi_libraries.find { |l| signature_in?(l, name) } || ffi_libraries.first
          f = lib.func(name, **opts)
          ruby_name = f.name
        else
          c_name = rest.size == 3 ? rest.shift : name
          args, ret = rest
          raise ArgumentError, "attach_function(name, [c_name,] args, ret)" if ret.nil? && args.nil?

          lib = ffi_libraries.find { |l| symbol_in?(l, c_name) } || ffi_libraries.first
          f = lib.func(c_name, ret, args, **opts)
          ruby_name = name
        end
        define_ffi_method(ruby_name.to_s, f)
        f
      end

      private

      def symbol_in?(lib, name)
        lib.symbol(name.to_s)
        true
      rescue Errno::ENOENT
        false
      end

      def signature_in?(lib, sig)
        name = sig[/([A-Za-z_]\w*)\s*\(/, 1]
        name && symbol_in?(lib, name)
      end

      # A singleton method that calls the function with no Ruby frame of
      # its own (rbffi.c: Raw.attach).
      def define_ffi_method(name, f)
        raise ArgumentError, "#{name.inspect} is not a method name" unless name.match?(/\A[a-z_]\w*[?!]?\z/i)

        Raw.attach(self, name.to_sym, f)
      end
    end

    # A prepared C function: #call(*args), or f.(*args), or f[*args].
    class Function
      # Take a weft function handle (closed with the object).
      def self.wrap(handle, name, lib, ret_class, arg_classes, blocking)
        f = allocate
        f.send(:__setup, handle, name, lib, ret_class, arg_classes, blocking)
      rescue StandardError
        Raw.close(handle)
        raise
      end

      # A function at `address` with explicit types (also for variadic call
      # shapes).
      def self.build(address, name, ret, args, flags, blocking, lib)
        raise TypeError, "argument types are an Array, not #{args.class}" unless args.is_a?(Array)

        variadic = args.last == :varargs
        fixed = variadic ? args[0...-1] : args
        raise ArgumentError, ":varargs comes last" if fixed.include?(:varargs)

        rtype = FFI.find_type(ret)
        atypes = fixed.map { |a| FFI.find_type(a) }
        flags |= CALL_VARIADIC if variadic
        h = Raw.function_new(address, rtype.void? ? 0 : rtype.handle, atypes.map(&:handle),
                             atypes.size, 0, flags)
        f = wrap(h, name, lib, rtype.struct_class || rtype.target, atypes.map(&:struct_class), blocking)
        f.instance_variable_set(:@types, [rtype, atypes])
        f
      end

      def to_proc
        method(:call).to_proc
      end

      def [](*args)
        call(*args)
      end

      # Whether calls take the engine's fast path.
      def fast?
        (flags & CALL_FAST) != 0
      end

      def inspect
        "#<Weft::FFI::Function #{name.empty? ? address.inspect : name}/#{arity}#{blocking? ? ' blocking' : ''}>"
      end

      private

      # A variadic call with extra arguments: each is a value, typed by
      # its class (Integer: int, or long long beyond int's range; Float:
      # double; String: char*; nil, Pointer: void*) or a type Symbol and
      # its value (:long, 5), as ruby-ffi takes them.  One prepared
      # function per call shape.
      def __variadic_call(*args)
        fixed = arity.abs - 1
        vals = args[0, fixed]
        types = []
        i = fixed
        while i < args.size
          a = args[i]
          if a.is_a?(Symbol) || a.is_a?(Type)
            raise ArgumentError, "#{name}: variadic type #{a.inspect} has no value" if i + 1 >= args.size

            types << FFI.find_type(a)
            vals << args[i + 1]
            i += 2
          else
            types << FFI.find_type(variadic_type(a))
            vals << a
            i += 1
          end
        end
        shape(types).call(*vals)
      end

      def variadic_type(value)
        case value
        when Integer then value.between?(-2**31, 2**31 - 1) ? :int : :long_long
        when Float then :double
        when String then :string
        when nil, Pointer then :pointer
        when true, false then :int
        else
          return :pointer if value.respond_to?(:to_ptr)

          raise TypeError, "#{name}: cannot pass #{value.class} as a variadic argument " \
                           "(give its type: :long, 5)"
        end
      end

      def shape(types)
        @shapes ||= {}
        @shapes[types.map(&:handle)] ||= begin
          ret_h, fixed_h = __types
          begin
            weft_flags = flags & (CALL_ERRNO | CALL_LIBFFI)
            ret_class = @types ? @types[0].struct_class : nil
            fixed_classes = @types ? @types[1].map(&:struct_class) : Array.new(fixed_h.size)
            h = Raw.function_new(address, ret_h, fixed_h + types.map(&:handle),
                                 fixed_h.size, 0, weft_flags | CALL_VARIADIC)
            Function.wrap(h, name, nil, ret_class,
                          fixed_classes + types.map(&:struct_class), blocking?)
          ensure
            Raw.close(ret_h)
            fixed_h.each { |t| Raw.close(t) }
          end
        end
      end
    end

    # Memory at an address: Pointer.new(address), or what C functions,
    # struct fields and callbacks give.  Reads and writes by type, checked
    # against the size when it is known (MemoryPointer, Struct memory):
    # IndexError beyond it.
    class Pointer
      NULL = new(0)

      # The value of `type` at offset: a scalar, a String for :string
      # (char *; nil for NULL), a Pointer for pointers, a Struct instance
      # over the memory for a Struct class.
      def get(type, offset = 0)
        t = FFI.find_type(type)
        return __get(t.code, offset) if t.scalar?
        return t.struct_class.new(self + offset) if t.struct_class
        return Array.new(t.length) { |i| get(t.element, offset + i * t.element.size) } if t.array?

        raise TypeError, "cannot read a #{t.name}"
      end

      def put(type, offset, value)
        t = FFI.find_type(type)
        return __put(t.code, offset, value) if t.scalar?
        if t.struct_class
          raise TypeError, "expected a #{t.struct_class}, not #{value.class}" unless value.is_a?(t.struct_class)

          return put_bytes(offset, value.to_ptr.get_bytes(0, t.size))
        end
        raise TypeError, "cannot write a #{t.name}"
      end

      def read(type)
        get(type, 0)
      end

      def write(type, value)
        put(type, 0, value)
      end

      # The bytes up to the first NUL, or exactly len bytes.
      def read_string(len = nil)
        get_string(0, len)
      end

      # The String's bytes (ruby-ffi's write_string: no NUL added; put_string
      # adds one).
      def write_string(str)
        put_bytes(0, str)
      end

      def read_bytes(len)
        get_bytes(0, len)
      end

      def write_bytes(str)
        put_bytes(0, str)
      end

      def read_array_of(type, count)
        size = FFI.sizeof(type)
        Array.new(count) { |i| get(type, i * size) }
      end

      def write_array_of(type, values)
        size = FFI.sizeof(type)
        values.each_with_index { |v, i| put(type, i * size, v) }
        self
      end

      # ruby-ffi's typed accessors: read_int, write_int, get_int(offset),
      # put_int(offset, v), read_array_of_int(n), ... for each type name.
      %i[int8 uint8 int16 uint16 int32 uint32 int64 uint64 char uchar short ushort
         int uint long ulong long_long ulong_long float double pointer size_t bool].each do |t|
        define_method(:"read_#{t}") { get(t, 0) }
        define_method(:"write_#{t}") { |v| put(t, 0, v) }
        define_method(:"get_#{t}") { |off| get(t, off) }
        define_method(:"put_#{t}") { |off, v| put(t, off, v) }
        define_method(:"read_array_of_#{t}") { |n| read_array_of(t, n) }
        define_method(:"write_array_of_#{t}") { |a| write_array_of(t, a) }
      end

      def to_ptr
        self
      end

      def inspect
        "#<#{self.class} address=0x#{address.to_s(16)}#{size ? " size=#{size}" : ''}>"
      end
    end

    # Memory of its own, zeroed, freed with the object (or by #free):
    # MemoryPointer.new(:int, 4), MemoryPointer.new(16) (bytes).
    class MemoryPointer < Pointer
      # (clear: ruby-ffi's; the memory is always zeroed.)
      def initialize(type = :uint8, count = 1, _clear = true)
        super()
        size = type.is_a?(Integer) ? type : FFI.sizeof(type) * count
        __malloc(size)
      end

      # A copy of the String's bytes and a NUL.
      def self.from_string(str)
        str = String(str)
        mp = new(str.bytesize + 1)
        mp.put_string(0, str)
        mp
      end
    end

    # A C function pointer that calls a Ruby block:
    #   Callback.new("int(const void*, const void*)") { |a, b| ... }
    #   Callback.new(:int, [:pointer, :pointer]) { |a, b| ... }
    # Pass it wherever C takes a function pointer.  C may call it on any
    # thread: on a Ruby thread the block runs there; on another (a thread
    # C started) the call is queued to the binding's dispatcher thread,
    # and C waits for the result, so the Ruby thread that waits for that
    # C thread must do so without the GVL (a `blocking: true` function).
    # An exception in the block is raised by the Ruby call C was inside
    # (C gets zeros meanwhile) or, on the dispatcher, reported as a
    # Thread's would be.  Keep the Callback while C may call it; #free
    # releases it at once.
    class Callback
      def initialize(sig, args = nil, &block)
        raise ArgumentError, "a Callback needs a block" unless block

        if args.nil?
          raise TypeError, "a callback signature is a String, not #{sig.class}" unless sig.is_a?(String)

          h = Raw.function_parse(nil, sig, 0)
          classes = nil
        else
          raise TypeError, "argument types are an Array, not #{args.class}" unless args.is_a?(Array)

          raise TypeError, "a callback cannot be variadic" if args.include?(:varargs)

          rtype = FFI.find_type(sig)
          atypes = args.map { |a| FFI.find_type(a) }
          h = Raw.function_new(nil, rtype.void? ? 0 : rtype.handle, atypes.map(&:handle), atypes.size, 0, 0)
          classes = [rtype.struct_class || rtype.target, *atypes.map { |t| t.struct_class || t.target }]
        end
        @classes = classes
        begin
          slot = __setup(h, block, classes)
        ensure
          Raw.close(h)
        end
        ObjectSpace.define_finalizer(self, Callback.releaser(handle, slot))
      end

      # The finalizer: it must not hold the Callback itself.
      def self.releaser(closure, slot)
        proc { Raw.callback_release(closure, slot) }
      end

      # Release the closure now: C must not call it afterwards (a call
      # already running the block finishes).  Weft::ClosedError if freed
      # already.
      def free
        __free
        ObjectSpace.undefine_finalizer(self)
        nil
      end

      def address
        to_ptr.address
      end

      # A Function that calls this callback through C, at its address
      # (weft_ffi_closure_function): the round trip Ruby -> C -> Ruby.
      def function(blocking: false)
        h = Raw.closure_function(handle)
        Function.wrap(h, "callback", nil, @classes&.first, @classes&.drop(1), blocking)
      end

      def inspect
        freed? ? "#<Weft::FFI::Callback freed>" : "#<Weft::FFI::Callback address=0x#{address.to_s(16)}>"
      end
    end

    # A C struct: a class-level layout, instances that own their memory
    # (or wrap memory at a Pointer).
    #
    #   class Rec < Weft::FFI::Struct
    #     pack 1               # #pragma pack(1)
    #     align 8              # __attribute__((aligned(8)))
    #     ms_layout            # __attribute__((ms_struct)) (MSVC's rules)
    #     big_endian           # scalar_storage_order("big-endian")
    #     layout :tag, :char,
    #            :flags, bits(:uint, 3),  # unsigned flags : 3
    #            nil, bits(:uint, 0),     # unsigned : 0
    #            :name, [:char, 16],      # char name[16]
    #            :pos, Point              # struct Point pos
    #   end
    #   r = Rec.new(tag: 1)
    #   r[:flags] = 5; r.flags   # => 5
    #   Rec.size; Rec.offset_of(:name)
    #
    # Field reads and writes go through the engine (weft_ffi_struct_get_int
    # ...), so bitfields and byte order are exact.  A char[N] field reads
    # as a String (up to its first NUL), other arrays as an Array, a nested
    # struct as an instance over the parent's memory, a char * field as a
    # String or nil (a String stored in one is kept alive by the struct).
    class Struct
      # range: what an ordinary integer field takes (a bitfield keeps the
      # low bits of any Integer, as C's assignment does).
      Field = ::Struct.new(:name, :index, :type, :bits, :fk, :offset, :range)

      class << self
        def layout(*spec)
          raise Weft.error(StateError, "#{self}: the layout is set already") if @spec

          spec = spec.first.to_a.flatten(1) if spec.size == 1 && spec.first.is_a?(Hash)
          raise ArgumentError, "layout takes name, type pairs" if spec.empty? || spec.size.odd?

          @spec = spec.each_slice(2).to_a
          # Accessors (in C, as [] and []=), where they hide no method
          # (Kernel#p, #hash, ...).
          @spec.each do |name, _|
            next if name.nil?

            name = name.to_sym
            clash = [name, :"#{name}="].any? { |m| method_defined?(m) || private_method_defined?(m) }
            if clash
              define_method(:"#{name}=") { |v| self[name] = v } unless method_defined?(:"#{name}=")
            else
              Raw.define_accessor(self, name)
            end
          end
          self
        end

        def pack(n = nil)
          return @pack || 0 if n.nil?

          settable!
          @pack = n
        end

        def align(n = nil)
          return @align || 0 if n.nil?

          settable!
          @align = n
        end

        def ms_layout
          settable!
          @flags = flags | N::WEFT_FFI_MS
        end

        def big_endian
          settable!
          @flags = flags | N::WEFT_FFI_BIG_ENDIAN
        end

        def little_endian
          settable!
          @flags = flags | N::WEFT_FFI_LITTLE_ENDIAN
        end

        # A bitfield of `width` bits of integer type `type`.
        def bits(type, width)
          Bitfield.new(type, width)
        end

        def flags
          @flags || 0
        end

        # The engine's type (built once, on first use).
        def ffi_type
          @ffi_type || build
        end

        def size
          ffi_type.size
        end

        def alignment
          ffi_type.alignment
        end

        def members
          fields.map(&:name).compact
        end

        def offset_of(name)
          field(name).offset
        end

        def offsets
          fields.select(&:name).map { |f| [f.name, f.offset] }
        end

        # Where a field is, as the engine reports it: offset, unit (bytes
        # read for a bitfield), bit_offset, bits (-1: not a bitfield).
        def field_layout(name)
          f = field(name)
          offset, unit, bit_offset, bits = Raw.field_layout(ffi_type.handle, f.index)
          { offset: offset, unit: unit, bit_offset: bit_offset, bits: bits }
        end

        # A pointer to this struct, as a type: a function argument that
        # takes an instance, a result or field that reads as one.
        def ptr
          @ptr ||= Type.new(Raw.pointer_new(ffi_type.handle), target: self)
        end
        alias by_ref ptr

        # The struct by value, as a type (ruby-ffi's spelling; the class
        # itself does as well).
        def by_value
          self
        end

        def fields
          ffi_type
          @fields
        end

        def field(name)
          ffi_type
          @by_name.fetch(name.to_sym) { raise ArgumentError, "#{self} has no field #{name.inspect}" }
        end

        def union?
          false
        end

        private

        def settable!
          raise Weft.error(StateError, "#{self}: set pack, align and layout rules before its first use") if @ffi_type
        end

        def build
          spec = @spec || superclass_spec
          raise Weft.error(StateError, "#{self} has no layout") unless spec

          flags = self.flags | (union? ? N::WEFT_FFI_UNION : 0)
          st = Raw.struct_new(flags, pack, align)
          built = false
          fields = spec.map.with_index do |(name, type), i|
            bits = -1
            if type.is_a?(Bitfield)
              bits = type.width
              type = type.type
            end
            t = FFI.find_type(type)
            Raw.struct_add(st, name.nil? ? "" : name.to_s, t.handle, bits)
            Field.new(name&.to_sym, i, t, bits, field_kind(t), nil, int_range(t, bits))
          end
          Raw.struct_finish(st)
          fields.each { |f| f.offset = Raw.field_layout(st, f.index)[0] }
          @fields = fields.freeze
          @by_name = fields.select(&:name).to_h { |f| [f.name, f] }.freeze
          @ffi_type = Type.new(st, struct_class: self)
          @__layout = Raw.layout_new(st, fields.select { |f| f.name && f.type.target }.to_h { |f| [f.name, f.type.target] })
          built = true
          @ffi_type
        ensure
          Raw.close(st) if st && !built
        end

        def superclass_spec
          superclass.instance_variable_get(:@spec) if superclass < Struct
        end

        def int_range(t, bits)
          return nil unless bits.negative? && (t.kind == KIND_SINT || t.kind == KIND_UINT) && t.code != "?".ord

          n = t.size * 8
          (-(2**(n - 1)))..(t.kind == KIND_SINT ? 2**(n - 1) - 1 : 2**n - 1)
        end

        def field_kind(t)
          case t.kind
          when KIND_FLOAT then Raw::FK_DOUBLE
          when KIND_POINTER then t.code == "z".ord ? Raw::FK_STRING : Raw::FK_POINTER
          when KIND_UINT
            return Raw::FK_BOOL if t.code == "?".ord

            t.size == 8 ? Raw::FK_UINT64 : Raw::FK_INT
          when KIND_SINT then Raw::FK_INT
          end
        end
      end

      attr_reader :pointer

      # Struct.new: zeroed memory of its own; Struct.new(pointer): the
      # struct at that memory (kept alive by this object); either with
      # field: value pairs to set.
      def initialize(pointer = nil, **values)
        klass = self.class
        if pointer.nil?
          @pointer = MemoryPointer.new(klass.size)
        else
          pointer = pointer.to_ptr if !pointer.is_a?(Pointer) && pointer.respond_to?(:to_ptr)
          raise TypeError, "a struct is made over a Pointer, not #{pointer.class}" unless pointer.is_a?(Pointer)
          raise Weft.error(ValueError, "#{klass} over a NULL pointer") if pointer.null?
          if pointer.size && pointer.size < klass.size
            raise IndexError, "#{klass} needs #{klass.size} bytes, the memory has #{pointer.size}"
          end

          @pointer = pointer
        end
        values.each { |k, v| self[k] = v }
      end

      def to_ptr
        @pointer
      end

      # [] and []= are rbffi.c's: scalars there, the rest here.
      def __aref(name)
        f = self.class.field(name)
        if f.fk
          v = Raw.field_get(self.class.ffi_type.handle, f.index, @pointer, f.fk)
          return v unless f.type.target

          v.null? ? nil : f.type.target.new(v)
        elsif f.type.struct_class
          f.type.struct_class.new(@pointer + f.offset)
        elsif f.type.array?
          read_array(f)
        else
          raise TypeError, "#{self.class}.#{name} is a #{f.type.name}"
        end
      end

      def __aset(name, value)
        f = self.class.field(name)
        if f.fk == Raw::FK_STRING && value.is_a?(String)
          # C keeps the pointer: the struct keeps a copy of the bytes alive.
          mem = MemoryPointer.from_string(value)
          Raw.field_set(self.class.ffi_type.handle, f.index, @pointer, f.fk, mem)
          (@refs ||= {})[f.name] = mem
        elsif f.fk
          if f.range && value.is_a?(Integer) && !f.range.cover?(value)
            raise RangeError, "#{value} is out of range for #{self.class}.#{f.name} (#{f.type.name})"
          end

          Raw.field_set(self.class.ffi_type.handle, f.index, @pointer, f.fk, value)
          @refs&.delete(f.name)
        elsif f.type.struct_class
          write_struct(f, value)
        elsif f.type.array?
          write_array(f, value)
        else
          raise TypeError, "#{self.class}.#{name} is a #{f.type.name}"
        end
      end

      private :__aref, :__aset

      def members
        self.class.members
      end

      def values
        members.map { |m| self[m] }
      end

      def to_h
        members.to_h { |m| [m, self[m]] }
      end

      def ==(other)
        other.class == self.class && other.to_ptr.get_bytes(0, self.class.size) == @pointer.get_bytes(0, self.class.size)
      end

      def inspect
        "#<#{self.class} #{to_h.map { |k, v| "#{k}=#{v.inspect}" }.join(' ')}>"
      end

      private

      def read_array(f)
        elem = f.type.element
        if elem.code == "c".ord && elem.size == 1
          bytes = @pointer.get_bytes(f.offset, f.type.size)
          return bytes[0, bytes.index("\0") || bytes.size]
        end
        return Array.new(f.type.length) { |i| @pointer.get(elem, f.offset + i * elem.size) } unless swapped?(elem)

        # Scalars of a foreign byte order: through a native copy.
        tmp = MemoryPointer.new(elem.size)
        Array.new(f.type.length) do |i|
          tmp.put_bytes(0, @pointer.get_bytes(f.offset + i * elem.size, elem.size).reverse)
          tmp.get(elem, 0)
        end
      end

      NATIVE_FLAG = [1].pack("S") == "\x01\x00" ? N::WEFT_FFI_LITTLE_ENDIAN : N::WEFT_FFI_BIG_ENDIAN
      private_constant :NATIVE_FLAG

      # Whether scalar elements of this struct's arrays are byte-swapped
      # (a struct of the other byte order; nested structs keep their own).
      def swapped?(elem)
        elem.scalar? && elem.size > 1 && (self.class.flags & ~NATIVE_FLAG & (N::WEFT_FFI_BIG_ENDIAN | N::WEFT_FFI_LITTLE_ENDIAN)) != 0
      end

      def write_array(f, value)
        elem = f.type.element
        if value.is_a?(String) && elem.size == 1 && elem.scalar?
          raise IndexError, "#{value.bytesize} bytes do not fit #{f.name} (#{f.type.size})" if value.bytesize > f.type.size

          @pointer.put_bytes(f.offset, value.b.ljust(f.type.size, "\0"))
          return
        end
        raise TypeError, "#{f.name} takes an Array, not #{value.class}" unless value.is_a?(Array)
        raise IndexError, "#{value.size} elements do not fit #{f.name} (#{f.type.length})" if value.size > f.type.length

        unless swapped?(elem)
          value.each_with_index { |v, i| @pointer.put(elem, f.offset + i * elem.size, v) }
          return
        end
        tmp = MemoryPointer.new(elem.size)
        value.each_with_index do |v, i|
          tmp.put(elem, 0, v)
          @pointer.put_bytes(f.offset + i * elem.size, tmp.get_bytes(0, elem.size).reverse)
        end
      end

      def write_struct(f, value)
        klass = f.type.struct_class
        if value.is_a?(Hash)
          inner = klass.new(@pointer + f.offset)
          value.each { |k, v| inner[k] = v }
        elsif value.is_a?(klass)
          @pointer.put_bytes(f.offset, value.to_ptr.get_bytes(0, klass.size))
        else
          raise TypeError, "#{f.name} takes a #{klass} or a Hash, not #{value.class}"
        end
      end
    end

    # A C union: Struct's DSL, every field at offset 0.
    class Union < Struct
      def self.union?
        true
      end
    end
  end
end
