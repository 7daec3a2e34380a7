/*
 * Site profiles: what storyd knows about one site's pages, as data rather
 * than C. A profile is an INI file (profiles/<site>.ini) with a name, a
 * version (recorded with everything derived from it), the hosts it serves,
 * how urls map to page kinds, the brand tags of the site, and the markers
 * of its templates (list headers, footers, login prompts, bylines, dates).
 * Loading is pure: the caller reads the file and hands over its text.
 * Every list key may repeat; each occurrence adds a value.
 */
#ifndef SD_CORE_PROFILE_H
#define SD_CORE_PROFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/url.h"

/* A list of strings, owned by the profile. */
typedef struct sp_list {
    char **items;
    size_t count;
} sp_list;

typedef enum {
    SP_PAGE_ARTICLE,
    SP_PAGE_LISTING,
    SP_PAGE_SECTION,
    SP_PAGE_OTHER,
} sp_page_kind;

/* One url pattern: a path and, optionally, a query parameter that must be present. */
typedef struct sp_page_rule {
    sp_page_kind kind;
    char *path;  /* exact path, e.g. "/news/index.php" */
    char *param; /* required parameter name (decoded, e.g. "section[0]"), or NULL */
} sp_page_rule;

typedef struct sp_profile {
    char *name;
    char *version;
    sp_list hosts; /* canonical hosts (no "www.") */
    sp_page_rule *page_rules;
    size_t n_page_rules;
    sp_list keep_param_paths; /* [urls] keep_param = PATH PARAM, paths ... */
    sp_list keep_param_names; /* ... and the parameter kept on each */
    cu_site_rule *url_rules;  /* every keep_param rule for every host, for cu_canonical */
    size_t n_url_rules;
    sp_list tracking_params;

    sp_list brand_tags;         /* "동포투데이": a lead tag starting with it names the brand */
    sp_list publisher_suffixes; /* a lead tag ending in one of these names another publisher */

    sp_list teaser_lists;    /* list headers whose entries carry leads ("BEST 뉴스") */
    sp_list headline_lists;  /* list headers of bare titles ("실시간뉴스", "추천뉴스") */
    sp_list listing_headers; /* headers that open a listing's entries ("전체기사보기") */
    sp_list section_header_suffixes; /* "글로벌이슈최신기사" ends in "최신기사" */
    sp_list footer_markers;     /* a line with one of these ends an article body ("무단전재") */
    sp_list login_start;        /* first line of a login prompt */
    sp_list login_end;          /* its last line */
    sp_list mail_title_markers; /* "기사제목": the title follows (same line or next) */
    sp_list body_end_markers;   /* lines that end an article body ("태그") */
    sp_list skip_lines; /* lines that are never content ("보내는분 이메일", "키워드") */
    sp_list page_edit_markers;  /* "최종편집": the page's edit date, not a story's */
    sp_list input_date_markers; /* "입력", "기사입력": the story's date and time follow */
    sp_list byline_suffixes;    /* "기자" */
    sp_list meta_bullets; /* bullets of an article's meta block ("댓글", "글자크기설정") */
    sp_list caption_prefixes;    /* "▲", "△" */
    sp_list image_extensions;    /* "jpg", "png": a line naming an image file is not text */
    sp_list share_markers;       /* "보내기", "프린트": share and tool bullets */
    sp_list breadcrumb_prefixes; /* "Home >" */
    sp_list section_skip;        /* section names that are no section ("뉴스홈") */
    sp_list site_cut_markers;    /* "...", "…": a lead the site shortened ends so */
    int min_title_chars;         /* a title cut by the page end shorter than this is dropped */
    int min_body_bytes; /* a shorter article body is a stub (a redirect page), not a story */
} sp_profile;

/*
 * Parses a profile from INI text. origin names the file in messages.
 * Returns a new profile (sp_profile_free), or NULL with "origin:line: what"
 * in err. Unknown sections or keys are errors, so a typo cannot silently
 * disable a rule.
 */
sp_profile *sp_profile_parse(const char *text, size_t len, const char *origin, char *err,
                             size_t errlen);
void sp_profile_free(sp_profile *profile);

/* The page kind of an absolute url under this profile (SP_PAGE_OTHER when nothing matches). */
sp_page_kind sp_page_kind_of(const sp_profile *profile, const char *url);

/* True when the profile serves host (compared without "www."). */
int sp_serves_host(const sp_profile *profile, const char *host);

/* The url rules of this profile for cu_canonical (borrowed from the profile). */
cu_rules sp_url_rules(const sp_profile *profile);

/* True when list holds exactly text; sp_list_contains_in: some item occurs in text. */
int sp_list_has(const sp_list *list, const char *text);
int sp_list_in(const sp_list *list, const char *text);

const char *sp_page_kind_name(sp_page_kind kind);

#endif
