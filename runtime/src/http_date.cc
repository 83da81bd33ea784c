#include "kv_assets/http_date.h"

#include <array>
#include <cstdio>
#include <ctime>

namespace kv_assets {
namespace {

constexpr std::array<std::string_view, 7> kDays = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::array<std::string_view, 7> kLongDays = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                                       "Thursday", "Friday", "Saturday"};
constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
constexpr std::int64_t DaysFromCivil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

constexpr bool IsLeap(std::int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

constexpr unsigned DaysInMonth(std::int64_t y, unsigned m) {
  constexpr unsigned kDaysIn[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDaysIn[m - 1];
}

// A cursor over the text that consumes exact pieces; any mismatch poisons it.
class Cursor {
 public:
  explicit Cursor(std::string_view s) : s_(s) {}
  bool ok() const { return ok_; }
  bool done() const { return ok_ && s_.empty(); }

  void Literal(std::string_view lit) {
    if (!ok_ || !s_.starts_with(lit)) {
      ok_ = false;
      return;
    }
    s_.remove_prefix(lit.size());
  }
  // Exactly `n` digits.
  int Digits(int n) {
    int v = 0;
    for (int i = 0; i < n; ++i) {
      if (!ok_ || s_.empty() || s_[0] < '0' || s_[0] > '9') {
        ok_ = false;
        return 0;
      }
      v = v * 10 + (s_[0] - '0');
      s_.remove_prefix(1);
    }
    return v;
  }
  // Index of the word in `words` that the text starts with, or -1.
  template <std::size_t N>
  int OneOf(const std::array<std::string_view, N>& words) {
    for (std::size_t i = 0; ok_ && i < N; ++i) {
      if (s_.starts_with(words[i])) {
        s_.remove_prefix(words[i].size());
        return static_cast<int>(i);
      }
    }
    ok_ = false;
    return -1;
  }
  char Peek() const { return ok_ && !s_.empty() ? s_[0] : '\0'; }

 private:
  std::string_view s_;
  bool ok_ = true;
};

// The pieces of a date as read, before they are checked.
struct DateFields {
  std::int64_t year = 0;
  int month = -1;  // 0-based
  int day = 0;
  int hour = 0, min = 0, sec = 0;
  int weekday = -1;  // 0 = Sunday
};

// "HH:MM:SS", shared by all three forms.
void ReadTimeOfDay(Cursor& c, DateFields& f) {
  f.hour = c.Digits(2);
  c.Literal(":");
  f.min = c.Digits(2);
  c.Literal(":");
  f.sec = c.Digits(2);
}

std::optional<std::int64_t> Assemble(const DateFields& f) {
  if (f.month < 0 || f.day < 1 ||
      static_cast<unsigned>(f.day) > DaysInMonth(f.year, static_cast<unsigned>(f.month + 1)) ||
      f.hour > 23 || f.min > 59 || f.sec > 60) {
    return std::nullopt;
  }
  const std::int64_t days =
      DaysFromCivil(f.year, static_cast<unsigned>(f.month + 1), static_cast<unsigned>(f.day));
  // The day name is redundant, and a mismatch means the date is not what it claims.
  const std::int64_t weekday = ((days % 7) + 11) % 7;  // 1970-01-01 was a Thursday (4)
  if (weekday != f.weekday) return std::nullopt;
  // A leap second is the last second of its minute.
  return days * 86400 + f.hour * 3600 + f.min * 60 + (f.sec == 60 ? 59 : f.sec);
}

}  // namespace

std::optional<std::int64_t> ParseHttpDate(std::string_view text) {
  // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
  {
    Cursor c(text);
    DateFields f;
    f.weekday = c.OneOf(kDays);
    c.Literal(", ");
    f.day = c.Digits(2);
    c.Literal(" ");
    f.month = c.OneOf(kMonths);
    c.Literal(" ");
    f.year = c.Digits(4);
    c.Literal(" ");
    ReadTimeOfDay(c, f);
    c.Literal(" GMT");
    if (c.done()) return Assemble(f);
  }
  // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT". A two-digit year that looks more than 50 years
  // in the future is in the past (RFC 9110 §5.6.7); with no clock here, 70-99 is 19xx.
  {
    Cursor c(text);
    DateFields f;
    f.weekday = c.OneOf(kLongDays);
    c.Literal(", ");
    f.day = c.Digits(2);
    c.Literal("-");
    f.month = c.OneOf(kMonths);
    c.Literal("-");
    const int yy = c.Digits(2);
    f.year = yy >= 70 ? 1900 + yy : 2000 + yy;
    c.Literal(" ");
    ReadTimeOfDay(c, f);
    c.Literal(" GMT");
    if (c.done()) return Assemble(f);
  }
  // asctime: "Sun Nov  6 08:49:37 1994"
  {
    Cursor c(text);
    DateFields f;
    f.weekday = c.OneOf(kDays);
    c.Literal(" ");
    f.month = c.OneOf(kMonths);
    c.Literal(" ");
    if (c.Peek() == ' ') {
      c.Literal(" ");
      f.day = c.Digits(1);
    } else {
      f.day = c.Digits(2);
    }
    c.Literal(" ");
    ReadTimeOfDay(c, f);
    c.Literal(" ");
    f.year = c.Digits(4);
    if (c.done()) return Assemble(f);
  }
  return std::nullopt;
}

std::string FormatHttpDate(std::int64_t t) {
  constexpr std::int64_t kMin = -62167219200;  // 0000-01-01T00:00:00Z
  constexpr std::int64_t kMax = 253402300799;  // 9999-12-31T23:59:59Z
  if (t < kMin) t = kMin;
  if (t > kMax) t = kMax;
  std::int64_t days = t / 86400;
  std::int64_t secs = t % 86400;
  if (secs < 0) {
    secs += 86400;
    days -= 1;
  }
  // civil_from_days (Howard Hinnant).
  const std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2);
  const std::int64_t wd = ((days % 7) + 11) % 7;
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s, %02u %s %04lld %02lld:%02lld:%02lld GMT",
                kDays[static_cast<std::size_t>(wd)].data(), d, kMonths[m - 1].data(),
                static_cast<long long>(y), static_cast<long long>(secs / 3600),
                static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60));
  return buf;
}

std::string_view CurrentHttpDate() {
  thread_local std::time_t formatted_at = -1;
  thread_local std::string formatted;
  const std::time_t now = std::time(nullptr);
  if (now != formatted_at) {
    formatted = FormatHttpDate(now);
    formatted_at = now;
  }
  return formatted;
}

}  // namespace kv_assets
