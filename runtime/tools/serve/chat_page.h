// The chat page of GET / (chat_page.html, compiled in).
#pragma once

namespace qwenc {

const char *chat_page_html();

}  // namespace qwenc
