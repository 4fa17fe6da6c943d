-- A first taste of a rule snippet, evaluated in Orbit's sandbox:
--   orbit eval examples/hello.lua
-- Money is integer cents; patterns, tables and math work as in Lua 5.4.

local cart = {
  { sku = "A1", category = "shoes", qty = 1, price = 4999 },
  { sku = "B7", category = "socks", qty = 3, price = 599 },
}

local total = 0
for _, line in ipairs(cart) do
  total = total + line.qty * line.price
end

-- One point per full euro spent.
local points = total // 100

local function euros(cents)
  return ("%d.%02d EUR"):format(cents // 100, cents % 100)
end

local size = ("Size: 42 EU"):match("(%d+)")

return euros(total), points, tonumber(size)
