//! `view(&model, frame)`: draws the model, and only draws.

pub mod layout;
pub mod log;
pub mod ring;
pub mod status;
pub mod story;
pub mod style;

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use super::model::Model;

/// Draws one frame of the live view.
pub fn view(model: &Model, frame: &mut Frame) {
    let area = frame.area();
    render(model, area, frame.buffer_mut());
}

/// Draws the model into `buf` (what [`view`] does, for a buffer of one's own).
pub fn render(model: &Model, area: Rect, buf: &mut Buffer) {
    let mut model_at = std::borrow::Cow::Borrowed(model);
    if model.size != (area.width, area.height) {
        model_at.to_mut().size = (area.width, area.height);
    }
    let model = model_at.as_ref();
    let Some(areas) = layout::areas(model) else {
        status::too_small(area, buf, layout::MIN_SIZE);
        return;
    };
    status::status_line(model, areas.status, buf);
    if let Some(cluster) = areas.cluster {
        ring::draw(model, cluster, buf);
    }
    if let Some(story) = areas.story {
        story::draw(model, story, buf);
    }
    if let Some(log) = areas.log {
        log::draw(model, log, buf);
    }
    status::keys_line(model, areas.keys, buf);
    folded_narration(model, &areas, buf);
    if model.help {
        status::help(area, buf);
    }
}

/// On a terminal too small for the story pane, a lesson's narration is still shown: in a
/// box over the bottom of the pane that is.
fn folded_narration(model: &Model, areas: &layout::Areas, buf: &mut Buffer) {
    let Some(text) = model.lesson.as_ref().and_then(|l| l.narration.as_ref()) else {
        return;
    };
    let body = match (areas.story, areas.cluster.or(areas.log)) {
        (None, Some(body)) => body,
        _ => return,
    };
    let height = story::narration_height(text, body.width, body.height / 2);
    let boxed = Rect::new(body.x, body.bottom() - height, body.width, height);
    ratatui::widgets::Widget::render(ratatui::widgets::Clear, boxed, buf);
    let palette = style::Palette { color: model.color };
    story::narration_box(model, text, boxed, buf, palette);
}
