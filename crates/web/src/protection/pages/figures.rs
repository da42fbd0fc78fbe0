//! The protection figures page.

use super::*;

#[derive(Template)]
#[template(path = "protection/figures.html")]
struct FiguresPage {
    frame: Frame,
    f: cases::Figures,
    place: String,
}

impl FiguresPage {
    fn minutes(&self, m: &Option<i64>) -> String {
        match m {
            None => "—".into(),
            Some(m) if *m < 120 => format!("{m} 分钟"),
            Some(m) => format!("{:.1} 小时", *m as f64 / 60.0),
        }
    }
}

pub async fn figures_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<super::super::api::FiguresParams>,
) -> PageResult {
    let (from, to) = super::super::api::period(&p, state.app.today())?;
    let f = cases::figures(&state.app, &user.actor, from, to).await?;
    Ok(render(&FiguresPage {
        frame: Frame::of(&state, &user).await,
        place: place_name(&f.region_code),
        f,
    }))
}
