# Varnish 7 in front of a KvAssets server: the lines that matter are in vcl_recv.
# Tested by tests/proxy/proxy_test.sh (varnishd -p http_gzip_support=off, docs/proxy/README.md).
vcl 4.1;

backend default {
  .host = "127.0.0.1";
  .port = "8080";  # the KvAssets server
}

sub vcl_recv {
  if (req.url ~ "^/static/") {
    # Asset answers do not depend on cookies; without this the built-in VCL passes every
    # request that carries one (most browsers' requests to their own site) to the origin.
    unset req.http.Cookie;
    unset req.http.Authorization;
  }
  # One spelling per set of codings KvAssets has, in a fixed order: under
  # "Vary: Accept-Encoding" the cache then keeps at most eight objects per URL, not one per
  # browser's way of writing the field. A coding the client sends with q=0 counts as
  # accepted here (browsers do not send q=0).
  if (req.http.Accept-Encoding) {
    set req.http.X-KvAssets-AE = "";
    if (req.http.Accept-Encoding ~ "(?i)\bbr\b") {
      set req.http.X-KvAssets-AE = req.http.X-KvAssets-AE + ", br";
    }
    if (req.http.Accept-Encoding ~ "(?i)\bgzip\b") {
      set req.http.X-KvAssets-AE = req.http.X-KvAssets-AE + ", gzip";
    }
    if (req.http.Accept-Encoding ~ "(?i)\bzstd\b") {
      set req.http.X-KvAssets-AE = req.http.X-KvAssets-AE + ", zstd";
    }
    set req.http.Accept-Encoding = regsub(req.http.X-KvAssets-AE, "^, ", "");
    unset req.http.X-KvAssets-AE;
    if (req.http.Accept-Encoding == "") {
      unset req.http.Accept-Encoding;
    }
  }
}
