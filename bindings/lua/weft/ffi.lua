-- weft/ffi.lua - weft.ffi: a foreign function interface for Lua 5.4 over
-- weft's ctypes engine, in the spirit of LuaJIT's ffi.
--
--   local ffi = require "weft.ffi"          -- also weft.ffi
--   local libc = ffi.load("c")              -- by short name, or a path
--   local strlen = libc:func("size_t strlen(const char*)")
--   print(strlen("hello"))                  --> 5
--   local abs = libc:func("abs", "int", {"int"})
--   local div_t = ffi.struct{{"quot", "int"}, {"rem", "int"}}
--   local div = libc:func("div", div_t, {"int", "int"})
--   print(div(7, 2).rem)                    --> 1
--
-- The C half is bindings/lua/ffi.c (core.ffi_open()); docs/bindings.md,
-- "The ctypes engine in Lua", describes the whole API.  This file adds
-- what is easier said in Lua: ffi.C, the process's own namespace, opened
-- when first used.
local core = require "weft.core"

local ffi = core.ffi_open()

setmetatable(ffi, {__index = function(t, key)
  if key == "C" then
    local C = ffi.load()
    rawset(t, key, C)
    return C
  end
end})

return ffi
