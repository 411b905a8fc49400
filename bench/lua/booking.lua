-- POST /api/v1/applications/ (or the floor's /bench/claim/ when params.floor): a distinct,
-- valid person per request, each account booking for at most 5 of them.
local function person(i)
  local serial = i % 9999 + 1
  local k = math.floor(i / 9999)
  local day, month, year = k % 28 + 1, math.floor(k / 28) % 12 + 1, 70 + math.floor(k / 336) % 30
  local nik = string.format("%s%02d%02d%02d%04d", params.region, day, month, year, serial)
  return nik, string.format("19%02d-%02d-%02d", year, month, day)
end

function request()
  local i = next_index()
  local nik, birth_date = person(i)
  if params.floor then
    return wrk.format("POST", "/bench/claim/", {["Content-Type"] = "application/json"},
      string.format('{"slot":%d,"nik":"%s"}', params.slot, nik))
  end
  local token = params.tokens[(i % #params.tokens) + 1]
  local body = string.format(
    '{"slot":%d,"passport_type":"regular","validity_years":5,"application_kind":"new","express":false,' ..
    '"applicant":{"nik":"%s","full_name":"Pemohon Bench","birth_date":"%s","sex":"M","phone":"081234567890"}}',
    params.slot, nik, birth_date)
  return wrk.format("POST", "/api/v1/applications/", {
    ["Content-Type"] = "application/json",
    ["Accept-Language"] = "id",
    ["Authorization"] = "Token " .. token,
  }, body)
end
