// Link field values for preloading (kv_assets/preload.h), over the test site's manifest.

#include "kv_assets/preload.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "site_assets.h"

namespace {

using ::kv_assets::PreloadAs;
using ::kv_assets::PreloadLink;
using ::kv_assets::PreloadLinks;
using ::testing::ElementsAre;

const kv_assets::Manifest& kSite = site_assets::kManifest;

std::string Url(std::string_view path) { return std::string(kSite.Find(path)->url()); }
std::string Integrity(std::string_view path) { return std::string(kSite.Find(path)->integrity()); }

TEST(Preload, StylesAndScriptsCarryIntegrity) {
  EXPECT_EQ(PreloadLink(kSite, "css/a.css"), "<" + Url("css/a.css") +
                                                 ">; rel=preload; as=style; integrity=\"" +
                                                 Integrity("css/a.css") + "\"");
  EXPECT_EQ(PreloadLink(kSite, "js/app.min.js"), "<" + Url("js/app.min.js") +
                                                     ">; rel=preload; as=script; integrity=\"" +
                                                     Integrity("js/app.min.js") + "\"");
  EXPECT_TRUE(Integrity("css/a.css").starts_with("sha384-"));
  EXPECT_TRUE(Url("css/a.css").starts_with("/static/css/a."));  // tagged
}

TEST(Preload, ModulesUseModulepreload) {
  EXPECT_EQ(PreloadLink(kSite, "js/app.min.js", {.as = PreloadAs::kModule}),
            "<" + Url("js/app.min.js") + ">; rel=modulepreload; integrity=\"" +
                Integrity("js/app.min.js") + "\"");
}

TEST(Preload, FontsAndFetchesAreCrossOrigin) {
  EXPECT_EQ(PreloadLink(kSite, "img/logo.svg", {.as = PreloadAs::kFont}),
            "<" + Url("img/logo.svg") + ">; rel=preload; as=font; crossorigin");
  EXPECT_EQ(PreloadLink(kSite, "app.properties"),
            "<" + Url("app.properties") + ">; rel=preload; as=fetch; crossorigin");
}

TEST(Preload, ImagesCarryNoIntegrity) {
  EXPECT_EQ(PreloadLink(kSite, "img/logo.svg"),
            "<" + Url("img/logo.svg") + ">; rel=preload; as=image");
}

TEST(Preload, IntegrityCanBeLeftOut) {
  EXPECT_EQ(PreloadLink(kSite, "css/a.css", {.integrity = false}),
            "<" + Url("css/a.css") + ">; rel=preload; as=style");
}

TEST(Preload, UnknownPathsAreSkipped) {
  EXPECT_EQ(PreloadLink(kSite, "css/missing.css"), "");
  EXPECT_THAT(PreloadLinks(kSite, {"css/a.css", "nope.js", "img/logo.svg"}),
              ElementsAre(PreloadLink(kSite, "css/a.css"), PreloadLink(kSite, "img/logo.svg")));
}

}  // namespace
