-- POST /api/v1/releases/{id}/entries/ (or the floor's /bench/enter/ when params.floor): a
-- household of two distinct, valid people per request with three ranked sessions.
local function person(i)
  local serial = i % 9999 + 1
  local k = math.floor(i / 9999)
  local day, month, year = k % 28 + 1, math.floor(k / 28) % 12 + 1, 70 + math.floor(k / 336) % 30
  local nik = string.format("%s%02d%02d%02d%04d", params.region, day, month, year, serial)
  return nik, string.format("19%02d-%02d-%02d", year, month, day)
end

local function applicant(nik, birth_date)
  return string.format(
    '{"nik":"%s","full_name":"Pemohon Bench","birth_date":"%s","sex":"M","phone":"081234567890",' ..
    '"passport_type":"regular","validity_years":5,"application_kind":"new","express":false}',
    nik, birth_date)
end

local choices = "[" .. table.concat(params.choices, ",") .. "]"

function request()
  local i = next_index()
  local first, first_birth = person(2 * i)
  local second, second_birth = person(2 * i + 1)
  if params.floor then
    return wrk.format("POST", "/bench/enter/", {["Content-Type"] = "application/json"},
      string.format('{"release":%d,"account":%d,"choices":%s,"niks":["%s","%s"]}',
        params.release, params.account, choices, first, second))
  end
  local token = params.tokens[(i % #params.tokens) + 1]
  local body = string.format('{"people":[%s,%s],"choices":%s}',
    applicant(first, first_birth), applicant(second, second_birth), choices)
  return wrk.format("POST", "/api/v1/releases/" .. params.release .. "/entries/", {
    ["Content-Type"] = "application/json",
    ["Accept-Language"] = "id",
    ["Authorization"] = "Token " .. token,
  }, body)
end
