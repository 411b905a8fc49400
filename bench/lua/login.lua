-- POST /api/v1/auth/login/ with the bench account's right password (each accepted login hashes it).
local body = string.format('{"email":"%s","password":"%s"}', params.email, params.password)

function request()
  return wrk.format("POST", "/api/v1/auth/login/", {["Content-Type"] = "application/json"}, body)
end
