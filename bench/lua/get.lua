-- A GET of params.path (the same URL every time), with If-None-Match when params.etag is set.
local headers = {}
if params.etag and params.etag ~= "" then
  headers["If-None-Match"] = params.etag
end

function request()
  return wrk.format("GET", params.path, headers)
end
