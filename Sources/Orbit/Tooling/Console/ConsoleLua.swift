/// The REPL's own Lua, loaded as internal host code into the rule book's state: it runs what the marketer typed and
/// renders the results as Lua source (tables over several lines when they do not fit on one).
enum ConsoleLua {
    static let chunkName = "[orbit repl]"

    static let source = #"""
        local type, pairs, tostring, pcall, format = type, pairs, tostring, pcall, string.format
        local sort, concat, pack = table.sort, table.concat, table.pack

        local function key_order(a, b)
          local ta, tb = type(a), type(b)
          if ta == tb and (ta == "number" or ta == "string") then return a < b end
          return ta < tb
        end

        local function scalar(value)
          local kind = type(value)
          if kind == "string" then return format("%q", value) end
          if kind == "userdata" then
            local ok, id = pcall(function() return value.id end)
            if ok and type(id) == "string" then return "customer " .. format("%q", id) end
          end
          if kind == "function" or kind == "userdata" or kind == "thread" then return kind end
          return tostring(value)
        end

        local show
        function show(value, indent, seen)
          if type(value) ~= "table" then return scalar(value) end
          if seen[value] then return "{...}" end
          seen[value] = true
          local keys = {}
          for key in pairs(value) do keys[#keys + 1] = key end
          sort(keys, key_order)
          local is_list = true
          for position, key in ipairs(keys) do if key ~= position then is_list = false end end
          local parts = {}
          for position, key in ipairs(keys) do
            local label = ""
            if not is_list then
              label = (type(key) == "string" and key:match("^[%a_][%w_]*$")) and key .. " = "
                or "[" .. scalar(key) .. "] = "
            end
            parts[position] = label .. show(value[key], indent .. "  ", seen)
          end
          seen[value] = nil
          if #parts == 0 then return "{}" end
          local flat = "{ " .. concat(parts, ", ") .. " }"
          if #indent + #flat <= 80 and not flat:find("\n", 1, true) then return flat end
          return "{\n" .. indent .. "  " .. concat(parts, ",\n" .. indent .. "  ") .. ",\n" .. indent .. "}"
        end

        -- Runs a chunk the marketer typed; its results, rendered, separated by tabs.
        local function run(chunk)
          local results = pack(chunk())
          local rendered = {}
          for position = 1, results.n do rendered[position] = show(results[position], "", {}) end
          return concat(rendered, "\t")
        end

        -- The fields (not the methods) of a customer view, one "name  value" line each.
        local function describe(customer, names)
          local lines = {}
          for _, name in ipairs(names) do
            local value = customer[name]
            if type(value) ~= "function" then lines[#lines + 1] = format("  %-22s %s", name, show(value, "  ", {})) end
          end
          return concat(lines, "\n")
        end

        return run, describe
        """#
}
